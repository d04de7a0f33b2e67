extension LaneConfiguration {
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
