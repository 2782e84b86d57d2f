package forget

// CascadeError reports a keep list that the database's foreign keys
// would break: erasing Erased deletes or changes the rows of Kept (a
// catalogue table, or a field's column) through an ON DELETE (or ON
// UPDATE) action, Via being the chain of tables and actions. Nothing was
// erased. It wraps ErrInvalid.
type CascadeError struct {
	Kept   string // the kept catalogue table or field
	Erased string // the catalogue table or field whose erasure reaches Kept
	Via    string // e.g. "member_auth -(ON DELETE CASCADE)-> member_note"
}

func (e *CascadeError) Error() string {
	return e.Kept + " cannot be kept while " + e.Erased + " is erased: the database's foreign keys change its rows (" +
		e.Via + "); keep " + e.Erased + " too. Nothing was erased"
}

func (e *CascadeError) public() string { return e.Error() }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *CascadeError) Is(target error) bool { return target == ErrInvalid }
