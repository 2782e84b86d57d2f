package main

// The MySQL DSN: a mysql:// URL read as the driver reads it, and the
// driver's errors quieted.

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// mysqlConfig translates a mysql:// URL to the driver's configuration.
// The query string holds the driver's parameters (tls, timeout...), read
// as the driver reads them; any other is a session variable, sent as
// SET name=value, so a string value needs quotes (sql_mode=%27...%27).
func mysqlConfig(u *url.URL) (*mysql.Config, error) {
	q := u.Query()
	// A password in the query would be sent as SET password=...: which,
	// quoted, changes the account's password. Take it as the password.
	pass, hasPass := u.User.Password()
	if q.Has("password") {
		if hasPass {
			return nil, errors.New("the password is given twice, in the user-info and the query string")
		}
		pass = q.Get("password")
		q.Del("password")
	}
	if q.Has("user") {
		return nil, errors.New("give the user name before the host (mysql://user@host/db), not in the query string")
	}
	// MySQL reads SQL_MODE and @@session.sql_mode as sql_mode, and the
	// driver sends its parameters in random order: another spelling or a
	// repeat would make the session's mode a coin toss.
	for k := range q {
		if k != "sql_mode" && strings.Contains(strings.ToLower(k), "sql_mode") {
			return nil, errors.New("give sql_mode in lower case, as sql_mode=%27...%27, and once")
		}
	}
	if ms, ok := q["sql_mode"]; ok && (len(ms) != 1 || !strictSQLMode(ms[0])) {
		return nil, errors.New("sql_mode must be strict (STRICT_ALL_TABLES, STRICT_TRANS_TABLES or TRADITIONAL), given once as a quoted list of modes: a forget must not write a value MySQL silently cuts")
	}
	cfg, err := mysql.ParseDSN("/?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("a query parameter is not one the MySQL driver accepts: %w", err)
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if _, ok := cfg.Params["sql_mode"]; !ok {
		cfg.Params["sql_mode"] = mysqlSQLMode
	}
	cfg.User = u.User.Username()
	cfg.Passwd = pass
	cfg.Net = "tcp"
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	cfg.Addr = net.JoinHostPort(u.Hostname(), port)
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	return cfg, nil
}

// strictSQLMode reports whether v is a quoted literal list of modes (no
// expression, which the check could not read) naming a strict one.
func strictSQLMode(v string) bool {
	list, quoted := strings.CutPrefix(v, "'")
	list, closed := strings.CutSuffix(list, "'")
	if !quoted || !closed {
		return false
	}
	strict := false
	for _, m := range strings.Split(strings.ToUpper(list), ",") {
		if m == "" || strings.Trim(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
			return false
		}
		strict = strict || m == "STRICT_TRANS_TABLES" || m == "STRICT_ALL_TABLES" || m == "TRADITIONAL"
	}
	return strict
}

// quietMySQLError keeps a MySQL error's number and hides its message,
// which may quote a value from the DSN ("Variable 'sql_mode' can't be set
// to the value of ..."), but for the errors an operator needs to read and
// that quote nothing secret.
func quietMySQLError(err error) error {
	var my *mysql.MySQLError
	if !errors.As(err, &my) {
		return err
	}
	switch my.Number {
	case 1044, 1045, 1049: // access denied to a database, for a user; unknown database
		return err
	}
	return fmt.Errorf("mysql error %d (SQLSTATE %s); check the DSN's parameters", my.Number, string(my.SQLState[:]))
}
