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
// Stores live in subpackages: store/sqlstore over database/sql (SQLite,
// PostgreSQL, MySQL/MariaDB) and store/memstore in memory. Every store
// passes the conformance suite in store/storetest.
//
// This package imports only the standard library and keeps no
// package-level mutable state: two Forgetters never share anything.
package forget
