package forget

// A preset is one vendor product's forget: a catalogue ([DefaultCatalogue]
// for Offerit, [NATSMemberCatalogue] for NATS), a default mapping (in
// store/sqlstore) and a handler [Contract] ([OfferitCustomer],
// [NATSMember]).

// The tables of NATS's member forget (PATCH /api/member/forget), as the
// vendor's documentation lists them ("NATS4 REST API Forget Member",
// revision of October 2020), besides member_auth and member_note.
// Catalogue names are lower case: EpochTransStats and MemberCancelStats
// are named epochtransstats and membercancelstats, which a keep list
// matches whatever its case.
const (
	MemberOpenIDAccessToken  Table = "member_openid_access_token"
	MemberOpenIDAuthToken    Table = "member_openid_auth_token"
	MemberTemp               Table = "member_temp"
	LiveMemberLoginlog       Table = "live_member_loginlog"
	HistoricalMemberLoginlog Table = "historical_member_loginlog"
	MemberAutocascade        Table = "member_autocascade"
	MemberVerificationAtvod  Table = "member_verification_atvod"
	LiveSurferAction         Table = "live_surfer_action"
	HistoricalSurferAction   Table = "historical_surfer_action"
	MemberAutocascadeNextra  Table = "member_autocascade_nextra"
	EpochTransStats          Table = "epochtransstats"
	MemberCancelStats        Table = "membercancelstats"
	PayzeEvent               Table = "payze_event"
	PayzeTransaction         Table = "payze_transaction"
)

// NATSMemberCatalogue returns a fresh copy of the NATS member forget's
// catalogue: Offerit's 23 fields with the default rules, and the 16
// tables the vendor documents, rows deleted. Extend it, as any catalogue,
// for tables a NATS installation has that the list misses.
func NATSMemberCatalogue() Catalogue {
	c := DefaultCatalogue()
	for _, t := range []Table{
		MemberOpenIDAccessToken, MemberOpenIDAuthToken, MemberTemp, LiveMemberLoginlog, HistoricalMemberLoginlog,
		MemberAutocascade, MemberVerificationAtvod, LiveSurferAction, HistoricalSurferAction, MemberAutocascadeNextra,
		EpochTransStats, MemberCancelStats, PayzeEvent, PayzeTransaction,
	} {
		c.Tables = append(c.Tables, TableSpec{Name: t})
	}
	return c
}
