/// An HTTP API failure: the status and the message served as `{"error": "..."}`.
public struct APIError: Error, CustomStringConvertible, Sendable {
    public enum Status: Int, Sendable {
        case badRequest = 400, unauthorized = 401, forbidden = 403, notFound = 404, requestTimeout = 408, conflict = 409
        case payloadTooLarge = 413
        case internalServerError = 500, notImplemented = 501
    }

    public var status: Status
    public var message: String
    public var description: String { message }

    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }
}
