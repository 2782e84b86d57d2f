package forget

// Inventory is the whole picture of what a store holds on one customer,
// table by table: how many of the customer's rows each table holds, what
// the forget does with them, and the columns it leaves as they are —
// retained on purpose (with the host's reason), kept by the request, or
// covered by nothing. Names and counts only, never a value. A dry run's
// receipt carries it when the store can tell (store/sqlstore can).
type Inventory struct {
	Tables []InventoryTable `json:"tables"`
}

// InventoryTable is one table whose rows belong to the customer.
type InventoryTable struct {
	Table string `json:"table"`
	// Rows counts the customer's rows in the table. Uncounted is set when
	// the store could not count them (a column named like the customer
	// key but of another type, say); Rows is 0 then.
	Rows      int64 `json:"rows"`
	Uncounted bool  `json:"uncounted,omitempty"`
	// Action is what the forget does to those rows: "deleted", "updated"
	// (some columns erased), "kept" (the request keeps what would be
	// erased) or "none".
	Action string `json:"action"`
	// Retained lists the columns kept on purpose, with the reason.
	Retained []RetainedColumn `json:"retained,omitempty"`
	// Kept lists the columns the request's keep list preserves.
	Kept []string `json:"kept,omitempty"`
	// Unclassified lists the columns nothing covers: the forget leaves
	// them as they are. LikelyPersonal repeats those whose name or type
	// looks personal.
	Unclassified   []string `json:"unclassified,omitempty"`
	LikelyPersonal []string `json:"likely_personal,omitempty"`
}

// RetainedColumn is a column a forget keeps on purpose, and why.
type RetainedColumn struct {
	Column string `json:"column"`
	Reason string `json:"reason"`
}
