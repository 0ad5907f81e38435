package regextest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2bx/f2bx"
	"github.com/f2bx/f2bx/config/native"
)

const testLog = `Aug 14 11:00:01 host svc[1]: fail from 192.0.2.1
Aug 14 11:00:02 host svc[1]: fail from 192.0.2.2
# a comment line
Aug 14 11:00:03 host svc[1]: ok from 192.0.2.3
Aug 14 11:00:04 host svc[1]: fail from 192.0.2.9
`

func setup(t *testing.T) (Options, string) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "filter.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "filter.d", "svc.conf"), []byte(`[Definition]
prefregex = ^\s*\S+ svc\[\d+\]: <F-CONTENT>.+</F-CONTENT>$
failregex = ^fail from <HOST>$
ignoreregex = ^fail from 192\.0\.2\.9$
`), 0o644)
	log := filepath.Join(dir, "svc.log")
	os.WriteFile(log, []byte(testLog), 0o644)
	now := time.Date(2005, 8, 14, 12, 0, 0, 0, time.UTC)
	return Options{ConfDir: dir, Now: func() time.Time { return now }, Loc: time.UTC,
		Native: []native.Layer{{Name: "embedded", FS: f2bx.Defaults}}}, log
}

func TestReport(t *testing.T) {
	o, log := setup(t)
	var out bytes.Buffer
	if err := Run(log, "svc", "", o, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"Use   failregex filter file : svc, basedir: " + o.ConfDir,
		"Prefregex: 4 total",
		"Failregex: 2 total",
		"|   1) [2] ^fail from <HOST>$",
		"|   1) [1] ^fail from 192\\.0\\.2\\.9$",
		"Ignoreregex: 1 total",
		"Lines: 4 lines, 1 ignored, 2 matched, 1 missed",
		"|- Ignored line(s):",
		"|- Missed line(s):\n|  Aug 14 11:00:03 host svc[1]: ok from 192.0.2.3",
		"failregex 1: re2",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
}

func TestOutID(t *testing.T) {
	o, log := setup(t)
	o.Out = "id"
	var out bytes.Buffer
	if err := Run(log, "svc", "", o, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "192.0.2.1\n192.0.2.2\n" {
		t.Errorf("-o id printed %q", got)
	}
}

func TestRawRegexAndLine(t *testing.T) {
	o, _ := setup(t)
	o.Out = "id"
	var out bytes.Buffer
	if err := Run("Aug 14 11:00:01 login failed for bob from 192.0.2.7", `failed for \S+ from <HOST>$`, "", o, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "192.0.2.7\n" {
		t.Errorf("raw regex on a line: %q", out.String())
	}
}

func TestOwnFilterAndJSON(t *testing.T) {
	o, _ := setup(t)
	o.JSON = true
	var out bytes.Buffer
	line := "Aug 14 11:00:01 host sshd[7]: Failed password for invalid user x from 10.9.9.9 port 22 from 192.0.2.7 port 4243 ssh2"
	if err := Run(line, "sshd[mode=aggressive]", "", o, &out); err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if rep.Lines != 1 || rep.Matched != 1 || len(rep.FailRegex) == 0 || rep.FailRegex[0].Hits != 1 || rep.FailRegex[0].Engine != "re2" {
		t.Errorf("report %+v", rep)
	}
}
