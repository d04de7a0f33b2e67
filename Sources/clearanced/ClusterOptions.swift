import ArgumentParser
import CentralCluster
import Foundation
import Logging
import PostgresSupport
import RoadCargo
import ServiceSupport

/// `clearanced serve`'s cluster options: this process is one node of
/// several on one PostgreSQL database (docs/deploying-central.md, "Several nodes").
struct ClusterOptions: ParsableArguments {
    @Option(
        name: .customLong("cluster"),
        help:
            "Join a cluster of nodes on this PostgreSQL database (postgres://USER@HOST:PORT/DATABASE; no password in it)."
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
            if passwordFile != nil || nodeID != nil {
                throw ValidationError(
                    "--cluster-password-file and --node-id belong to --cluster; add --cluster URL")
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
    /// node; nil without --cluster.
    func open(clock: any WallClock, logger: Logger) async throws -> ClusterNode? {
        guard let url else { return nil }
        let location = try PostgresLocation(url: url)
        let password: PostgresPasswordSource =
            passwordFile.map { .file($0) }
            ?? (ProcessInfo.processInfo.environment["PGPASSWORD"] != nil ? .environment("PGPASSWORD") : .none)
        // The host name may take a resolver's round trip: off the cooperative pool.
        let name = try await Blocking.run { resolvedNodeID }
        let pool = try await PostgresPool.open(
            location, password: password, maximumConnections: 10, logger: logger)
        return try await ClusterNode.open(pool: pool, node: try NodeID(name), clock: clock, logger: logger)
    }
}
