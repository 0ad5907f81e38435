package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"time"

	"github.com/f2bx/f2bx/tests/bench/sshdlog"
)

// service is a filter to measure with its log generator.
type service struct {
	name string
	// generate writes lines lines, a share of them failures from addrs.
	generate func(lines int, share float64) []byte
}

var services = []service{
	{"sshd", func(n int, share float64) []byte {
		return sshdlog.Generate(sshdlog.Spec{Lines: n, Failures: share, Addresses: 50000, IPv6: 0.05, Start: time.Now().Add(-2 * time.Hour), Seed: 7})
	}},
	{"nginx-http-auth", nginxLog},
	{"postfix", postfixLog},
}

// attackers returns n attacking addresses, 5 % IPv6.
func attackers(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		if r.Float64() < 0.05 {
			out[i] = fmt.Sprintf("2001:db8:%x:%x::%x", i>>16, i&0xffff, r.Intn(65535)+1)
		} else {
			out[i] = fmt.Sprintf("%d.%d.%d.%d", 1+i>>16&0x7f, i>>8&0xff, i&0xff, 1+r.Intn(254))
		}
	}
	return out
}

// generate writes n lines: each a prefix (date, program), then with
// probability share a failure from one of 50,000 attacking addresses,
// else an ordinary line from 198.51.100.0/24. Deterministic.
func generate(n int, share float64, prefix func(r *rand.Rand, t time.Time, i int) string, fail, ok func(r *rand.Rand, addr string, i int) string) []byte {
	r := rand.New(rand.NewSource(7))
	addrs := attackers(r, 50000)
	var b bytes.Buffer
	t := time.Now().Add(-2 * time.Hour)
	for i := 0; i < n; i++ {
		if i%50 == 0 {
			t = t.Add(time.Second)
		}
		b.WriteString(prefix(r, t, i))
		if r.Float64() < share {
			b.WriteString(fail(r, addrs[r.Intn(len(addrs))], i))
		} else {
			b.WriteString(ok(r, fmt.Sprintf("198.51.100.%d", 1+r.Intn(254)), i))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// nginxLog is an nginx error log: basic-auth failures, the rest other
// errors and warnings that the filter must read past.
func nginxLog(n int, share float64) []byte {
	users := []string{"admin", "root", "test", "user", "guest"}
	return generate(n, share, func(r *rand.Rand, t time.Time, i int) string {
		return fmt.Sprintf("%s [error] %d#%d: *%d ", t.Format("2006/01/02 15:04:05"), 1000+r.Intn(9), 1000+r.Intn(9), i)
	}, func(r *rand.Rand, a string, _ int) string {
		u := users[r.Intn(len(users))]
		if r.Intn(2) == 0 {
			return fmt.Sprintf("user \"%s\": password mismatch, client: %s, server: example.org, request: \"GET /admin/ HTTP/1.1\", host: \"example.org\"", u, a)
		}
		return fmt.Sprintf("user \"%s\" was not found in \"/etc/nginx/.htpasswd\", client: %s, server: example.org, request: \"GET /admin/ HTTP/1.1\", host: \"example.org\"", u, a)
	}, func(r *rand.Rand, a string, _ int) string {
		switch r.Intn(3) {
		case 0:
			return fmt.Sprintf("open() \"/srv/www/favicon.ico\" failed (2: No such file or directory), client: %s, server: example.org, request: \"GET /favicon.ico HTTP/1.1\", host: \"example.org\"", a)
		case 1:
			return fmt.Sprintf("upstream timed out (110: Connection timed out) while reading response header from upstream, client: %s, server: example.org, request: \"GET /api HTTP/1.1\", upstream: \"http://127.0.0.1:8080/api\", host: \"example.org\"", a)
		}
		return fmt.Sprintf("client %s closed keepalive connection", a)
	})
}

// postfixLog is a Postfix mail log: rejected clients, the rest ordinary
// delivery traffic.
func postfixLog(n int, share float64) []byte {
	return generate(n, share, func(r *rand.Rand, t time.Time, _ int) string {
		return fmt.Sprintf("%s mx postfix/smtpd[%d]: ", t.Format("Jan _2 15:04:05"), 10000+r.Intn(50000))
	}, func(r *rand.Rand, a string, _ int) string {
		switch r.Intn(3) {
		case 0:
			return fmt.Sprintf("NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 <x@example.net>: Relay access denied; from=<a@example.biz> to=<x@example.net> proto=ESMTP helo=<x>", a)
		case 1:
			return fmt.Sprintf("NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; from=<a@example.biz> to=<nobody@example.org> proto=ESMTP helo=<x>", a)
		}
		return fmt.Sprintf("improper command pipelining after EHLO from unknown[%s]: QUIT", a)
	}, func(r *rand.Rand, a string, i int) string {
		switch r.Intn(4) {
		case 0:
			return fmt.Sprintf("connect from mail.example.com[%s]", a)
		case 1:
			return fmt.Sprintf("4Q1Lm%05d: client=mail.example.com[%s]", i%100000, a)
		case 2:
			return fmt.Sprintf("disconnect from mail.example.com[%s] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5", a)
		}
		return fmt.Sprintf("lost connection after DATA from mail.example.com[%s]", a)
	})
}
