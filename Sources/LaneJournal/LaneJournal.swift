// LaneJournal: see Package.swift for what it holds.
