import ArgumentParser
import Foundation
import SentraConfig
import SentraCore
import SentraStore

extension Sentractl {
    /// `sentractl access`: craftsmen's personal links (docs/access.md).
    struct Access: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Personal links: each shows one craftsman his own numbers and nothing else.",
            subcommands: [Add.self, List.self, Revoke.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add", abstract: "Make a personal link for a craftsman; prints its id, its token and the link.")
            @OptionGroup var common: Common
            @Option(help: "The craftsman's id.") var craftsman: String
            @Option(help: "A note to tell his links apart (e.g. his phone).") var label: String = ""
            @Option(name: .customLong("base-url"), help: "The dashboard's address as he reaches it, e.g. http://sentra.local:8080.")
            var baseURL: String?

            func run() throws {
                let c = try common.load()
                guard c.registry.craftsmen.contains(where: { $0.id == craftsman }) else {
                    throw userError("no craftsman '\(craftsman)' in \(common.config)")
                }
                let store = try openWritable(c)
                let t: AccessToken
                do {
                    t = try store.addAccessToken(craftsman: craftsman, label: label, now: nowMillis())
                } catch {
                    printError("sentractl: writing the token failed: \(error)")
                    throw ExitCode(2)
                }
                let base = baseURL ?? "http://\(c.http.host):\(c.http.port)"
                print("id:    \(t.id)")
                print("token: \(t.token)")
                print("link:  \(base.hasSuffix("/") ? String(base.dropLast()) : base)/k/\(t.token)")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list", abstract: "Every personal link by id (never the tokens themselves).")
            @OptionGroup var common: Common

            func run() throws {
                let c = try common.load()
                let tokens: [AccessToken]
                do {
                    tokens = try openState(c).accessTokens()
                } catch let e as ExitCode {
                    throw e
                } catch {
                    printError("sentractl: reading the tokens failed: \(error)")
                    throw ExitCode(2)
                }
                let tz = c.calendar.timeZone
                let rows =
                    [["ID", "CRAFTSMAN", "LABEL", "CREATED", "REVOKED"]]
                    + tokens.map { t in
                        [
                            t.id, t.craftsman, t.label.isEmpty ? "-" : t.label, RFC3339.format(t.created, timeZone: tz),
                            t.revoked.map { RFC3339.format($0, timeZone: tz) } ?? "-",
                        ]
                    }
                let widths = (0..<5).map { i in rows.map { $0[i].count }.max() ?? 0 }
                for r in rows {
                    print(
                        r.enumerated().map { $0.element.padding(toLength: widths[$0.offset] + 2, withPad: " ", startingAt: 0) }
                            .joined().trimmingCharacters(in: .whitespaces))
                }
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "revoke", abstract: "Revoke a personal link by its id: the daemon refuses it within a second.")
            @OptionGroup var common: Common
            @Argument(help: "The link's id, as `access list` shows it.") var id: String

            func run() throws {
                let c = try common.load()
                let store = try openWritable(c)
                let found: Bool
                do {
                    found = try store.revokeAccessToken(id: id, now: nowMillis())
                } catch {
                    printError("sentractl: revoking failed: \(error)")
                    throw ExitCode(2)
                }
                guard found else { throw userError("no personal link with id '\(id)'") }
                print("revoked \(id)")
            }
        }
    }
}

/// The state database opened for writing, whether the daemon runs or not; one sentrad never
/// created is exit 1 (nothing is created).
private func openWritable(_ c: Configuration) throws -> ProductionStore {
    do {
        return try ProductionStore.openExisting(path: c.stateDatabasePath)
    } catch {
        printError("sentractl: \(error)")
        throw ExitCode(stateExitCode(opening: error))
    }
}
