package forget

// Limits and names the tests check, unexported because hosts need not
// build on them.
const (
	HeaderAPIKey         = headerAPIKey
	HeaderAPIUsername    = headerAPIUsername
	MaxParams            = maxParams
	MaxUnknownNamesShown = maxUnknownNamesShown
	MaxUnknownNameBytes  = maxUnknownNameBytes
	PseudonymLen         = pseudonymLen
	RandomLen            = randomLen
	LiveMemberLoginlog   = liveMemberLoginlog
)
