import ArgumentParser
import CentralCluster
import Foundation
import Logging
import PostgresSupport
import RoadCargo
import ServiceSupport

/// `clearanced serve`'s cluster options: this process is one node of
/// several on one PostgreSQL database (docs/deploying-central.md, "Several nodes").
///
/// A node on a PostgreSQL store (`--store postgres://...`) with the lane
/// link joins the cluster on the store's own database without being told:
/// a second node started on that store is then simply another node.
/// `--cluster` names the cluster's database explicitly (needed only with a
/// SQLite store shared by nodes on one machine, as the tests do).
struct ClusterOptions: ParsableArguments {
    @Option(
        name: .customLong("cluster"),
        help:
            "Join a cluster of nodes on this PostgreSQL database (postgres://USER@HOST:PORT/DATABASE; no password in it). Default with --store postgres://...: the store's database."
    )
    var url: String?

    @Option(
        name: .customLong("cluster-password-file"),
        help: "With --cluster: the file whose first line is the database password (else $PGPASSWORD if set).")
    var passwordFile: String?

    @Option(
        name: .customLong("node-id"),
        help:
            "With --cluster: this node's id, unique in the cluster (1 to 64 of A-Z, a-z, 0-9, '.', '-', '_'); default: the host name."
    )
    var nodeID: String?

    func validate() throws {
        guard let url else {
            if passwordFile != nil {
                throw ValidationError("--cluster-password-file belongs to --cluster; add --cluster URL")
            }
            if let nodeID {
                do { _ = try NodeID(nodeID) } catch { throw ValidationError("--node-id: \(error)") }
            }
            return
        }
        do { _ = try PostgresLocation(url: url) } catch {
            throw ValidationError("--cluster: \(error)")
        }
        do { _ = try NodeID(resolvedNodeID) } catch {
            throw ValidationError("--node-id: \(error)")
        }
    }

    var resolvedNodeID: String { nodeID ?? ProcessInfo.processInfo.hostName }

    /// Opens the database, migrates the cluster's tables and builds this
    /// node; nil without --cluster and without a PostgreSQL store.
    func open(store: StoreOptions, clock: any WallClock, logger: Logger) async throws -> ClusterNode? {
        let location: PostgresLocation
        let password: PostgresPasswordSource
        if let url {
            location = try PostgresLocation(url: url)
            password =
                passwordFile.map { .file($0) }
                ?? (ProcessInfo.processInfo.environment["PGPASSWORD"] != nil
                    ? .environment("PGPASSWORD") : .none)
        } else if let url = store.store {
            location = try PostgresLocation(url: url)
            password = store.password
        } else {
            return nil
        }
        // The host name may take a resolver's round trip: off the cooperative pool.
        let name = try await Blocking.run { resolvedNodeID }
        let pool = try await PostgresPool.open(
            location, password: password, maximumConnections: 10, logger: logger)
        return try await ClusterNode.open(pool: pool, node: try NodeID(name), clock: clock, logger: logger)
    }
}
