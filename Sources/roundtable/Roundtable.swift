import ArgumentParser
import Dispatch
import Foundation
import Logging
import RoundtableCore
import RoundtableServer

@main
struct Roundtable: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roundtable",
        abstract: "Real-time backend for community-of-practice sessions: rooms, needs, polls, interviews, groups.",
        version: RoundtableVersion.string,
        subcommands: [Serve.self, Demo.self, Inspect.self, Export.self, Settings.self],
        defaultSubcommand: Serve.self
    )
}

/// Options shared by every command that reads a configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (JSON). Every setting and its default: Config/roundtable.json.")
    var config: String?

    /// File, then `ROUNDTABLE_*` environment variables, then flags: later wins.
    func load() throws -> Configuration {
        var c = Configuration()
        if let path = config {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read configuration file \(path)")
            }
            c = try Configuration.parse(String(decoding: data, as: UTF8.self))
        }
        try c.applyEnvironment(ProcessInfo.processInfo.environment)
        return c
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Roundtable node: WebSocket at /ws, the web client at /, /healthz and /readyz, on one port.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Address to listen on (overrides server.host). Default 127.0.0.1.")
    var host: String?

    @Option(help: "Port to listen on, 0 for any free port (overrides server.port). Default 8080.")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Folder for the journal and snapshots (overrides server.dataDir). Default ./data.")
    var dataDir: String?

    @Option(name: .customLong("web-root"), help: "Folder with the web client's static files (overrides server.webRoot). Default ./web.")
    var webRoot: String?

    @Option(name: .customLong("port-file"), help: "Write the port actually listened on to this file once listening (for scripts using port 0).")
    var portFile: String?

    func run() throws {
        var config = try options.load()
        if let host { config.host = host }
        if let port { config.port = port }
        if let dataDir { config.dataDir = dataDir }
        if let webRoot { config.webRoot = webRoot }
        do { try config.validate() } catch { throw ValidationError(error.description) }

        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "roundtable")
        if let (before, after) = OpenFileLimit.fit(connections: config.maxConnections) {
            logger.info(
                "open-file limit fitted to transport.maxConnections plus a reserve",
                metadata: ["before": "\(before)", "after": "\(after)", "reserve": "\(OpenFileLimit.reserve)"])
        }
        let node = try Node.open(config: config, logger: logger)
        try node.server.start()
        if let portFile {
            try "\(node.server.port)\n".write(toFile: portFile, atomically: true, encoding: .utf8)
        }

        // Signals arrive on a Dispatch queue; the handler only asks the service thread to stop.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let server = node.server
        let sources = [SIGINT, SIGTERM].map { sig in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                logger.info("signal received, shutting down", metadata: ["signal": "\(sig)"])
                server.stop()
            }
            s.resume()
            return s
        }
        server.wait()
        let snapshotWritten = node.close()
        sources.forEach { $0.cancel() }
        // Exit statuses (OPERATIONS.md, Stopping): 1 recovery refused to serve, 3 the final snapshot failed.
        if let why = server.recoveryFailure {
            throw RefusedToServe(reason: why)
        }
        if !snapshotWritten { throw ExitCode(3) }
    }
}

/// Recovery refused the data folder: ArgumentParser prints this and exits 1.
struct RefusedToServe: Error, CustomStringConvertible {
    var reason: String
    var description: String { "recovery failed; refusing to serve: \(reason)" }
}

struct Settings: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every setting (environment variable, type, default, allowed values, meaning) as the Markdown table in docs/OPERATIONS.md.")

    func run() throws { print(Configuration.markdownTable(), terminator: "") }
}
