/// Limits the coordinator enforces on every request. Each one is a named setting in
/// `Config/roundtable.json` (section `limits`) and documented in docs/PROTOCOL.md.
public struct Limits: Sendable, Hashable {
    public var maxRooms = 1_000
    public var maxMembersPerRoom = 20_000
    public var maxNameLength = 80
    public var maxTitleLength = 200
    public var maxTextLength = 1_000
    public var maxTags = 20
    public var maxTagLength = 40
    public var maxNeedsPerRoom = 1_000
    public var maxPollsPerRoom = 200
    public var maxOptionsPerPoll = 100
    public var maxGroupsPerRoom = 200
    /// Steps in a room's agenda (run of show).
    public var maxAgendaSteps = 50
    /// Room events kept per room so a reconnecting member can catch up without a full `room.state`.
    public var resumeBufferEvents = 1_024
    /// Characters in a room join code (Crockford base32, 5 bits each).
    public var roomCodeLength = 8
    /// Leading characters of every room code and community id this node creates (its home in a cluster; see
    /// docs/SCALING.md).
    public var roomCodePrefix = ""
    /// Coalescing interval for `poll.results` and `needs.ranking`.
    public var resultsIntervalMs: Int64 = 250
    /// Rooms created with more members than this stop sending per-member join/presence events (see `RoomSettings`).
    /// Per-member events cost O(members²) messages while a room fills: 100 keeps a launch of thousands at about
    /// one such message per joiner, and a working group of up to 100 sees everyone come and go live.
    public var presenceEventsUpTo = 100
    /// `room.state` for members lists at most this many members (facilitators and online members first); facilitators get all.
    /// Every joiner of a large room gets this list: its size is most of what a join costs there (BENCHMARKS.md, launch).
    public var stateMembersLimit = 100
    /// Above `presenceEventsUpTo`, the coalesced `room.presence` count goes out at most this often.
    public var presenceIntervalMs: Int64 = 2_000
    /// Communities on this node.
    public var maxCommunities = 100
    /// Members on one community's roster.
    public var maxMembersPerCommunity = 5_000
    /// Size of one `community.import` roster (CSV text, or the JSON members' text). An import adds to the roster,
    /// so a larger one goes in parts; the default matches `transport.maxFrameBytes`.
    public var maxRosterBytes = 65_536
    /// Accepted interview highlights a community member's profile keeps (newest last; the oldest drop out).
    public var maxHighlightsPerMember = 20

    public init() {}
}
