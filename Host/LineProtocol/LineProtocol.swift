/// Line protocol (InfluxDB 1.x): parsing from bytes into ``TockModel/Point``s and serializing points.
///
/// - ``LineProtocolParser`` parses a whole buffer; ``StreamingLineParser`` accepts chunks of any
///   size (an HTTP body as it arrives) and keeps the partial last line for the next chunk.
/// - ``LineProtocolSerializer`` writes points back, escaped and typed so that the parser reads
///   them back unchanged.
/// - ``Precision`` is the unit of timestamps on the wire (`?precision=` of `/write`).
