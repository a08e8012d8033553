/// A property a fuzz target states about its input did not hold: a bug, as much as a crash is.
///
/// The fuzz executables turn it into a crash (so libFuzzer saves the input); the replay tests
/// record it as a test failure.
public struct PropertyViolation: Error, Sendable, CustomStringConvertible {
    /// Which property failed and the values that show it.
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Throws a ``PropertyViolation`` built from `message` unless `condition` holds.
@inlinable
public func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(PropertyViolation) {
    if !condition { throw PropertyViolation(message()) }
}
