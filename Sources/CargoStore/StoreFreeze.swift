import Foundation
import GRDB

#if DEBUG
    /// A test build's way to freeze the store as a hung SQLite call would:
    /// with `CLEARANCED_TEST_FREEZE_STORE_AFTER=N` in the environment, every
    /// statement on a reader connection after the first N blocks its thread
    /// for good. `scripts/watchdog-test.py` uses it to prove that systemd's
    /// watchdog restarts a clearanced whose store stopped answering.
    /// Release builds have no such hook.
    enum StoreFreeze {
        static let variable = "CLEARANCED_TEST_FREEZE_STORE_AFTER"

        static func install(in config: inout Configuration) {
            guard let text = ProcessInfo.processInfo.environment[variable], let limit = Int(text), limit >= 0
            else { return }
            let counter = Counter()
            config.prepareDatabase { db in
                guard db.configuration.readonly else { return }
                db.trace { _ in
                    guard counter.next() > limit else { return }
                    while true { sleep(3600) }
                }
            }
        }

        private final class Counter: @unchecked Sendable {
            private let lock = NSLock()
            private var count = 0

            func next() -> Int {
                lock.lock()
                defer { lock.unlock() }
                count += 1
                return count
            }
        }
    }
#endif
