/// The `alert` node and its handlers, registered with the builder.
enum AlertNodes {
    static let specs: [NodeSpec] = []
}
