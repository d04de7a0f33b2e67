import RoadCargo

/// Field-level checks of a submission (Parts I to VI), independent of time
/// and of what is stored.
public enum ConsignmentValidation {
    public static func issues(in s: ConsignmentSubmission) -> [ValidationIssue] {
        var c = IssueCollector()
        for (field, party) in [("consignor", s.consignor), ("consignee", s.consignee)] {
            if party.name.trimmingCharacters(in: .whitespaces).isEmpty {
                c.add("\(field).name", "party.name", "the name is required")
            }
        }
        if s.goodsItems.isEmpty {
            c.add("goodsItems", "goods.empty", "at least one goods item is required")
        }
        return c.issues
    }
}
