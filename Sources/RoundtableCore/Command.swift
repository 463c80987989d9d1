/// A client request after decoding: typed, but not yet checked against limits or permissions
/// (the coordinator does that, because only it knows the room).
public enum Command: Sendable, Hashable {
    case createRoom(CreateRoom)
    case join(Join)
    case leave
    case updateMember(MemberUpdate)
    case removeMember(MemberID)
    case rotateKey
    /// The facilitator ends the session: results freeze, the room becomes read-only.
    case closeRoom
    case setPasscode(String?)
    case submitNeed(text: String, tags: [String])
    case editNeed(Int, text: String?, tags: [String]?)
    case mergeNeeds(into: Int, from: [Int])
    case removeNeed(Int)
    case createPoll(PollDefinition, openNow: Bool)
    case importPolls([PollDefinition])
    case openPoll(Int)
    case closePoll(Int)
    /// The ballot's fields are read once the poll (and so its kind) is known; the object may hold the
    /// request's other fields too (`type`, `ref`, `poll`), which a ballot ignores.
    case castVote(poll: Int, ballot: Value.Object)
    case retractVote(poll: Int)
    case startInterviews(InterviewSettings)
    case nextInterviewRound
    case endInterviews
    case interviewNote(about: MemberID, text: String, shared: Bool)
    case acceptHighlight(Int)
    case rematch
    case createGroups(GroupMode, [Coordinator.GroupSpec])
    case assignGroups(explicit: [MemberID: Int]?, strategy: String?)
    case groupsFromNeeds(count: Int, capacity: Int?)
    case joinGroup(Int)
    case leaveGroup
    case saveGrouping(String)
    case applyGrouping(String)
    case announce(text: String, group: Int?)
    case startTimer(seconds: Int, label: String, group: Int?)
    case stopTimer(Int)
    /// Run of show: replace the agenda; start the next step or a chosen one; choose the wall's view;
    /// show a poll's results to members; take the standing announcement down.
    case setAgenda([AgendaStep])
    case nextStep
    case gotoStep(Int)
    case showWall(Wall)
    case revealPoll(Int)
    case clearAnnouncement
    /// Call setup for an interview partner (relayed, never stored).
    case callSignal(to: MemberID, CallSignal)
    /// ICE servers (STUN, TURN with a fresh credential) for the caller's partner call.
    case callIce
    /// Communities: requests that carry the community's facilitator key instead of needing a joined room.
    case createCommunity(name: String, createToken: String?)
    case importRoster(Community.Credentials, Roster)
    case exportCommunity(Community.Credentials)
    /// A member's new personal key (the old stops working), or the facilitator key when `member` is nil.
    case reissueCommunityKey(Community.Credentials, member: Int?)
    /// `owner`: nil leaves the need's owner group as it is; `.some(nil)` clears it.
    case setBacklogStatus(Community.Credentials, need: Int, BacklogStatus, owner: Int??)
    /// A member edits their own community profile (and whether they are in the directory).
    case communityProfile(Community.Credentials, CommunityProfileUpdate)
    /// Listed members, all or those matching a tag and/or able to help with a backlog need.
    case communityDirectory(Community.Credentials, CommunityDirectoryQuery)
    /// Replaces the standing groups.
    case communityGroups(Community.Credentials, [StandingGroupSpec])
    /// The community home page in one reply.
    case communityView(Community.Credentials)

    public struct CommunityProfileUpdate: Sendable, Hashable {
        public var profile: MemberUpdate
        public var listed: Bool?
        public init(_ profile: MemberUpdate = MemberUpdate(), listed: Bool? = nil) {
            self.profile = profile
            self.listed = listed
        }
    }

    public struct CommunityDirectoryQuery: Sendable, Hashable {
        public var tag: String?
        public var need: Int?
        public var limit: Int
        public var offset: Int
        public init(tag: String? = nil, need: Int? = nil, limit: Int = 50, offset: Int = 0) {
            self.tag = tag
            self.need = need
            self.limit = limit
            self.offset = offset
        }
    }

    public struct StandingGroupSpec: Sendable, Hashable {
        /// An existing group keeps its id; nil makes a new group.
        public var group: Int?
        public var name: String
        public var description: String
        public var focus: [Int]
        public var members: [Int]
        public init(group: Int? = nil, name: String, description: String = "", focus: [Int] = [], members: [Int] = []) {
            self.group = group
            self.name = name
            self.description = description
            self.focus = focus
            self.members = members
        }
    }

    public struct CreateRoom: Sendable, Hashable {
        public var title: String
        public var name: String
        public var organization: String
        public var settings: RoomSettings
        /// Checked by the server, not the domain: room creation is a node policy.
        public var createToken: String?
        /// Optional passcode new members must give to join (besides the room code).
        public var passcode: String?
        /// Opens the room as a session of this community (with the community's facilitator key).
        public var community: Community.Credentials?
        public init(
            title: String, name: String, organization: String = "", settings: RoomSettings = RoomSettings(),
            createToken: String? = nil, passcode: String? = nil, community: Community.Credentials? = nil
        ) {
            self.community = community
            self.passcode = passcode
            self.createToken = createToken
            self.title = title
            self.name = name
            self.organization = organization
            self.settings = settings
        }
    }

    public struct Join: Sendable, Hashable {
        public var code: String
        public var name: String?
        public var organization: String?
        public var role: Role
        public var facilitatorKey: String?
        public var token: String?
        public var since: UInt64?
        public var passcode: String?
        /// The member's personal key in the room's community.
        public var communityKey: String?
        public init(
            code: String, name: String? = nil, organization: String? = nil, role: Role = .member,
            facilitatorKey: String? = nil, token: String? = nil, since: UInt64? = nil, passcode: String? = nil,
            communityKey: String? = nil
        ) {
            self.communityKey = communityKey
            self.passcode = passcode
            self.code = code
            self.name = name
            self.organization = organization
            self.role = role
            self.facilitatorKey = facilitatorKey
            self.token = token
            self.since = since
        }
    }

    public struct MemberUpdate: Sendable, Hashable {
        public var name: String?
        public var organization: String?
        public var expertise: [String]?
        public var bio: String?
        public init(name: String? = nil, organization: String? = nil, expertise: [String]? = nil, bio: String? = nil) {
            self.name = name
            self.organization = organization
            self.expertise = expertise
            self.bio = bio
        }
    }
}
