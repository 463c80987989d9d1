/// What the server's event loop asks to decide how often to call `tick` (it costs a pass over every socket
/// to wake the loop, so an idle node should not be woken 20 times a second for nothing).
extension Coordinator {
    /// Results, rankings or presence are waiting for their coalesced flush in `tick`.
    public var hasPendingFlush: Bool { !dirtyRooms.isEmpty }

    /// Some room runs interviews or timers that `tick` advances. O(rooms): call it once per tick, not per request.
    public var hasTimedRooms: Bool { !timedRooms().isEmpty }
}
