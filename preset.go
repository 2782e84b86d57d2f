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
	memberOpenIDAccessToken  Table = "member_openid_access_token"
	memberOpenIDAuthToken    Table = "member_openid_auth_token"
	memberTemp               Table = "member_temp"
	liveMemberLoginlog       Table = "live_member_loginlog"
	historicalMemberLoginlog Table = "historical_member_loginlog"
	memberAutocascade        Table = "member_autocascade"
	memberVerificationAtvod  Table = "member_verification_atvod"
	liveSurferAction         Table = "live_surfer_action"
	historicalSurferAction   Table = "historical_surfer_action"
	memberAutocascadeNextra  Table = "member_autocascade_nextra"
	epochTransStats          Table = "epochtransstats"
	memberCancelStats        Table = "membercancelstats"
	payzeEvent               Table = "payze_event"
	payzeTransaction         Table = "payze_transaction"
)

// NATSMemberCatalogue returns a fresh copy of the NATS member forget's
// catalogue: Offerit's 23 fields with the default rules, and the 16
// tables the vendor documents, rows deleted. Extend it, as any catalogue,
// for tables a NATS installation has that the list misses.
func NATSMemberCatalogue() Catalogue {
	c := DefaultCatalogue()
	for _, t := range []Table{
		memberOpenIDAccessToken, memberOpenIDAuthToken, memberTemp, liveMemberLoginlog, historicalMemberLoginlog,
		memberAutocascade, memberVerificationAtvod, liveSurferAction, historicalSurferAction, memberAutocascadeNextra,
		epochTransStats, memberCancelStats, payzeEvent, payzeTransaction,
	} {
		c.Tables = append(c.Tables, TableSpec{Name: t})
	}
	return c
}
