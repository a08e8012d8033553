import FuzzSupport
import TICKScriptFuzzing

/// libFuzzer's entry point: one input per call. A PropertyViolation becomes a crash, so libFuzzer
/// saves the input as a crasher (see `Tests/Fuzz/run.sh`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    do {
        try TICKScriptFuzzing.check(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        fatalError("\(error)")
    }
    return 0
}

/// Runs libFuzzer when built with it, and otherwise replays the files or directories given as arguments.
@main
enum Main {
    static func main() {
        FuzzMain.run(libFuzzer: fuzzOneInput, replay: { try TICKScriptFuzzing.check($0) })
    }
}
