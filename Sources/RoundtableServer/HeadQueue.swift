/// A first-in first-out queue on an array: popping moves a head index instead of shifting the array
/// (`removeFirst` is O(n)), and the consumed prefix is dropped once it is long and most of the storage.
/// Popped slots are released at once, so a consumed element's memory does not wait for compaction.
struct HeadQueue<Element> {
    private var items: [Element?] = []
    private var head = 0
    private let compactAfter: Int
    private let keepCapacityUpTo: Int

    /// - Parameters:
    ///   - compactAfter: consumed elements tolerated before the storage is shifted down.
    ///   - keepCapacityUpTo: when the queue empties, storage up to this size is kept for reuse.
    init(compactAfter: Int, keepCapacityUpTo: Int) {
        self.compactAfter = compactAfter
        self.keepCapacityUpTo = keepCapacityUpTo
    }

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }
    var first: Element? { isEmpty ? nil : items[head] }
    var last: Element? { isEmpty ? nil : items[items.count - 1] }

    mutating func append(_ element: Element) { items.append(element) }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard !isEmpty else { return nil }
        let element = items[head]
        items[head] = nil
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: items.count <= keepCapacityUpTo)
            head = 0
        } else if head > compactAfter && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return element
    }

    mutating func removeAll() {
        items.removeAll(keepingCapacity: true)
        head = 0
    }
}
