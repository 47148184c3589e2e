/// Every batch the fake holds, in creation order, and the faults the next batches get.
struct FakeGeminiBatchBook: Sendable {
    var batches: [FakeGeminiBatch] = []
    var created = 0
    /// Faults for the next batches created, in order.
    var faults: [FakeGeminiBatchFault]

    func index(of id: String) -> Int? { batches.firstIndex { $0.id == id } }
}
