import Foundation

#if TOCK_LIBFUZZER
/// libFuzzer's driver (`FuzzerDriver.cpp`): parses libFuzzer's flags and runs `callback` on each input.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

/// The `main` of a fuzz executable.
///
/// Built with `-sanitize=fuzzer -DTOCK_LIBFUZZER` (as `Tests/Fuzz/run.sh` does) it hands control to
/// libFuzzer's driver with `callback`. SwiftPM links an executable's own `main` (it defines `main` as
/// the module's entry point), so libFuzzer's `main` cannot be used and the driver is called from here.
/// Built normally it replays the files given as arguments through `check` (``FuzzReplay``).
public enum FuzzMain {
    public static func run(
        libFuzzer callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt,
        replay check: (UnsafeRawBufferPointer) throws -> Void
    ) -> Never {
        #if TOCK_LIBFUZZER
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
        #else
        FuzzReplay.main(check: check)
        #endif
    }
}
