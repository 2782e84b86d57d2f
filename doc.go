// Package forget erases a customer's identifying details on request — the
// "right to be forgotten" — compatible with Offerit's
// PATCH /api/customer/forget.
//
// A [Forgetter] turns a [Request] (who to forget, what to keep) into a
// [Plan] over its [Catalogue] of fields and tables and hands the plan to a
// [Store], which applies it in one transaction. The result is a [Receipt]
// that says what was erased, never what the values were. [NewHandler]
// serves the same over HTTP with Offerit's contract.
//
// Stores live in subpackages: [github.com/forgetkit/forget/store/sqlstore]
// over database/sql (SQLite, PostgreSQL, MySQL/MariaDB) and
// [github.com/forgetkit/forget/store/memstore] in memory. Every store
// passes the conformance suite in
// [github.com/forgetkit/forget/store/storetest].
//
// This package imports only the standard library and keeps no
// package-level mutable state: two Forgetters never share anything.
//
// The sections below name, for each kind of reader, the few identifiers
// to start from; the rest of the package serves them.
//
// # Calling from Go
//
// [New] builds a [Forgetter] over a Store, with options ([Option]) such
// as [WithCatalogue] and [WithLogger]. Call
// [Forgetter.Verify] at start-up, then [Forgetter.Forget] with a
// [Request] naming the customer by a [Lookup] and what to keep; it
// returns a [Receipt]. [Forgetter.ForgetBatch] forgets many, one
// [Outcome] each; [Forgetter.Sweep] forgets whoever has been inactive
// since a cutoff ([SweepOptions], [SweepReport]); [Forgetter.Replay]
// forgets again, after a backup is restored, the customers of receipts.
//
// The [Catalogue] says what can be forgotten: [DefaultCatalogue] is
// Offerit's ([NATSMemberCatalogue] is NATS's member forget), extended
// with a host's own [FieldSpec] and [TableSpec] entries, each erased by
// a [Rule]: [Empty], [Null], [Fixed], [Pseudonym], [Random] or [Func].
// [Catalogue.SetRule] changes one rule; [Catalogue.ParseKeep] checks a
// keep list.
//
// A request that cannot be honoured changes nothing and fails with an
// error wrapping [ErrInvalid], [ErrNotFound], [ErrConflict] or
// [ErrHeld]; [Refused] tells those from failures, and [ProblemOf] gives
// any error's public status, code and message.
//
// # Serving HTTP
//
// [NewHandler] returns the [Handler] for a Forgetter; mount it at any
// path without a method pattern. It needs an [Authenticator]:
// [NewAPIKeys] or [ParseAPIKeyFile] for Offerit's api-username and
// api-key headers, an [AuthenticatorFunc] of your own, or
// [HostAuthenticated] when your middleware authenticates (and names the
// caller with [WithPrincipal]). Its options ([HandlerOption]) are
// [WithContract], to serve another vendor's parameters and success body
// ([OfferitCustomer] is the default, [NATSMember] the other), and
// [WithRequestIDFrom], to share your middleware's request id. Failed
// authentications are limited per client address and per username
// ([WithAuthLimit] with an [AuthLimit], [WithClientAddr] behind a proxy,
// [WithoutAuthLimit]) and answered 429. Bodies are limited to
// [MaxBodyBytes]; errors are answered as [ProblemOf] says.
//
// # Keeping forgotten people out
//
// A store built with tombstone keys ([TombstoneKey], read with
// [ParseTombstoneKeys]) leaves, for every identity a forget erases, a
// keyed hash ([TombstoneKey.Hash]) of its normalised value
// ([Normalization]). [Forgetter.Forgotten] asks whether an [Identity] was
// forgotten (a [TombstoneChecker] answers); [NewGuard] returns a [Guard]
// whose [Guard.Wrap] refuses, or with [GuardFlagOnly] flags
// ([GuardMatches]), requests to a sign-up, import or post-back endpoint
// whose named fields match one ([CodeForgotten]).
//
// # Writing a Store
//
// A [Store] has one method, Store.Forget: resolve a [Lookup] (with
// [Lookup.Keys]; [ParseIntKey] for integer keys, whose malformed values
// are a [KeyError]) and apply a [Plan] — each [Assignment] and
// [TableAction] of it, writing a [Value] — in one transaction, returning
// a [Result]. [Plan.Receipt] turns the plan's Record and the Result into
// the Receipt an audit trail keeps; [EventIDLen] and [MaxLabelLen] size
// its columns. The errors to return are documented on Store.Forget
// ([ErrNotFound], [ErrConflict], [HeldError], [UnknownHoldError],
// [ErrAlreadyForgotten]).
//
// Stores that can do more say so by implementing an optional interface,
// which the Forgetter finds by type assertion: [CatalogueChecker]
// (checked by New), [Verifier] (by Forgetter.Verify), [BatchStore] (by
// ForgetBatch), [InactiveFinder] and [InactiveCounter] (by Sweep),
// [Outbox] and [OutboxStats] (by a relay, and its metrics), and
// [TombstoneChecker] (by Forgetter.Forgotten and a Guard).
// Run store/storetest's suite against yours.
//
// # Events, hooks and metrics
//
// A store that is an [Outbox] writes each committed forget's [Event] in
// the forget's own transaction; package
// [github.com/forgetkit/forget/propagate] relays those events to NATS
// JetStream and delivers them to each downstream system at least once.
// [WithHook] registers an in-process, best-effort [Hook] that runs after
// each commit ([WithHookTimeout] bounds it; a failure is a
// [HookFailure]). [WithObserver] adds an [Observer] (or an
// [ObserverFunc]) that is told of every forget as [ForgetStats]: names
// and numbers only, with the outcomes [OutcomeForgotten],
// [OutcomeDryRun], [OutcomeRefused] and [OutcomeFailed]; an observer
// that is also a [HandlerObserver] hears the handler's refusals and failed
// authentications too. observe/prometheus and observe/otel adapt both.
//
// [WithCertifier] gives every committed erasure a signed certificate
// (Receipt.Certificate, in the audit record and the event too), made by
// a [Certifier] such as
// [github.com/forgetkit/forget/certificate.NewSigner]; receivers check it
// with that package alone.
package forget
