extension Array {
    /// Removes the elements for which `shouldRemove` is true, keeping the order of the others, like
    /// `removeAll(where:)`, but without touching the array when none is removed: an array shared with other tasks
    /// (a write fanned out to many, see ``TaskRunner/write(_:to:)``) is then not copied. `shouldRemove` is called
    /// once per element, in order.
    mutating func removeAllSparingShared(where shouldRemove: (Element) throws -> Bool) rethrows {
        guard let first = try firstIndex(where: shouldRemove) else { return }
        var kept = first
        var i = first + 1
        while i < count {
            if try !shouldRemove(self[i]) {
                swapAt(kept, i)
                kept += 1
            }
            i += 1
        }
        removeSubrange(kept...)
    }
}
