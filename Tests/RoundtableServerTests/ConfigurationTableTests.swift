import Foundation
import RoundtableCore
import RoundtableWire
import Testing

@testable import RoundtableServer

/// The settings table is the single source: the file, the environment, the bounds and the docs must agree with it.
@Suite struct ConfigurationTableTests {
    private func read(_ relative: String) throws -> String {
        try String(contentsOfFile: repositoryRoot + "/" + relative, encoding: .utf8)
    }

    @Test func operationsTableIsGeneratedFromTheTable() throws {
        let doc = try read("docs/OPERATIONS.md")
        let begin = "<!-- settings:begin (roundtable settings) -->\n", end = "<!-- settings:end -->"
        let start = try #require(doc.range(of: begin)), stop = try #require(doc.range(of: end))
        let committed = String(doc[start.upperBound..<stop.lowerBound])
        #expect(committed == Configuration.markdownTable(), "docs/OPERATIONS.md: paste the output of `roundtable settings` between the markers")
    }

    @Test func shippedConfigurationListsEverySettingWithItsDefault() throws {
        let root = try JSON.parse(read("Config/roundtable.json"), maxDepth: 16)
        var listed: [String] = []
        let defaults = Configuration()
        for (section, body) in try #require(root.objectValue) where !section.hasPrefix("_") {
            for (key, value) in try #require(body.objectValue) where !key.hasPrefix("_") {
                let name = "\(section).\(key)"
                listed.append(name)
                #expect(
                    defaults.value(of: name) == value,
                    "Config/roundtable.json: \(name) is \(value), the default is \(String(describing: defaults.value(of: name)))")
            }
        }
        #expect(Set(listed) == Set(Configuration.settingNames))
        #expect(listed.count == Configuration.settingNames.count)
    }

    @Test func readmeNamesEverySetting() throws {
        let readme = try read("README.md")
        let section = try #require(readme.components(separatedBy: "## Configuration").dropFirst().first?.components(separatedBy: "\n## ").first)
        for name in Configuration.settingNames {
            let parts = name.split(separator: ".")
            #expect(section.contains("`\(parts[0])`") && section.contains("`\(parts[1])`"), "README.md's Configuration table misses \(name)")
        }
    }

    @Test func everySettingTakesItsDefaultFromTheEnvironment() throws {
        let defaults = Configuration()
        for s in Configuration.settings {
            var c = Configuration()
            let text = try #require(defaults.value(of: s.name)).jsonText
            try c.applyEnvironment([s.environmentName: text])
            #expect(c.value(of: s.name) == defaults.value(of: s.name), "\(s.environmentName)=\(text)")
        }
    }

    @Test func everyBoundIsEnforcedFromFileAndEnvironment() throws {
        for s in Configuration.settings {
            guard let b = s.bounds else { continue }
            let below = s.kind == .integer ? (b.lowerBound - 1).rounded(.down) : b.lowerBound - 0.0005
            let section = s.name.split(separator: ".")[0], key = s.name.split(separator: ".")[1]
            #expect(throws: Configuration.Invalid.self, "\(s.name) = \(below)") {
                try Configuration.parse(#"{"\#(section)": {"\#(key)": \#(below)}}"#)
            }
            var c = Configuration()
            #expect(throws: Configuration.Invalid.self, "\(s.environmentName)=\(below)") {
                try c.applyEnvironment([s.environmentName: String(below)])
            }
            if b.upperBound < 1e15 {
                #expect(throws: Configuration.Invalid.self, "\(s.name) above its bound") {
                    try Configuration.parse(#"{"\#(section)": {"\#(key)": \#(b.upperBound + 1)}}"#)
                }
            }
        }
    }

    @Test func typesAndChoicesAreChecked() {
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"server": {"port": "80"}}"#) }
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"storage": {"fsync": "sometimes"}}"#) }
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"transport": {"allowedOrigins": [1]}}"#) }
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"server": {"nope": 1}}"#) }
        #expect(throws: Configuration.Invalid.self) { try Configuration.parse(#"{"limits": {"maxRooms": 1.5}}"#) }
    }
}
