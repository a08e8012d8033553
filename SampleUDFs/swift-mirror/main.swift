// swift-mirror: Kapacitor's examples/mirror written with UDFKit. Every point goes back unchanged
// (STREAM → STREAM), or with --batch every batch (BATCH → BATCH). Serves stdio, or a Unix socket
// with --socket PATH.
import UDFKit

struct Mirror: UDFHandler {
    var batch = false

    func info() -> Agent_InfoResponse {
        Agent_InfoResponse(wants: batch ? .batch : .stream, provides: batch ? .batch : .stream)
    }

    mutating func initialize(_ request: Agent_InitRequest) -> UDFResult { .success }

    mutating func beginBatch(_ begin: Agent_BeginBatch, output: inout UDFOutput) throws { try output.emit(begin) }

    mutating func point(_ point: Agent_Point, output: inout UDFOutput) throws { try output.emit(point) }

    mutating func endBatch(_ end: Agent_EndBatch, output: inout UDFOutput) throws { try output.emit(end) }
}

var batch = false
var socketPath: String?
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--batch": batch = true
    case "--socket" where !args.isEmpty: socketPath = args.popFirst()
    default:
        UDFMain.printUsage("usage: swift-mirror [--batch] [--socket PATH]\nunexpected argument: \(arg)")
    }
}
let mode = batch
if let socketPath {
    UDFMain.serve(socket: socketPath) { Mirror(batch: mode) }
} else {
    UDFMain.runStdio(Mirror(batch: mode))
}
