extension LaneConfiguration {
    /// Keys SIGHUP applies to a running lane; every other key needs a restart.
    /// They are read afresh where they are used: the state machine's timings,
    /// the log level, the retention run, the AIOP's default language and the
    /// control socket's check.
    public static let reloadableKeys: Set<String> = Set(keys.filter(\.reloadable).map(\.name))

    /// This config with the reloadable keys' values taken from `new`: what
    /// SIGHUP puts in force. Every other key keeps its running value.
    public func applyingReloadable(from new: LaneConfiguration) -> LaneConfiguration {
        var applied = self
        for key in Self.keys { key.copy?(&applied, new) }
        return applied
    }

    /// Every key with its value as a config file writes it, in file order,
    /// defaults included: for comparing configs and for logging the one in use.
    public var flattened: [(key: String, value: String)] {
        Self.keys.compactMap { key in key.value(self).map { (key.name, $0) } }
    }

    /// What a reload from this config to `new` changes: the keys SIGHUP
    /// applies, and the keys that differ but only take effect after a
    /// restart (laned logs those and keeps running on the old values).
    public func reloadable(from new: LaneConfiguration) -> (changed: [String], needsRestart: [String]) {
        let old = Dictionary(uniqueKeysWithValues: flattened)
        var changed: [String] = []
        var needsRestart: [String] = []
        for (key, value) in new.flattened where old[key] != value {
            if Self.reloadableKeys.contains(key) { changed.append(key) } else { needsRestart.append(key) }
        }
        // A key only one side has (an optional one added or removed).
        for (key, _) in flattened where !new.flattened.contains(where: { $0.key == key }) {
            needsRestart.append(key)
        }
        return (changed, needsRestart)
    }
}
