/// One page of a batch listing.
public struct BatchPage: Sendable {
    public var batches: [BatchSnapshot]
    /// Ask again with this for the next page; nil on the last.
    public var nextPageToken: String?

    public init(batches: [BatchSnapshot], nextPageToken: String? = nil) {
        self.batches = batches
        self.nextPageToken = nextPageToken
    }
}
