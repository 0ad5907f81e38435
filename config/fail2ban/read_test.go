package fail2ban

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func streamText(r *Result) string {
	var b strings.Builder
	for _, c := range r.Stream {
		b.WriteString(c.String() + "\n")
	}
	return b.String()
}

// A broken jail is reported and skipped; the others still start.
func TestBrokenJailIsSkipped(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"jail.conf": "[DEFAULT]\nenabled = true\n[good]\nfilter = f\n[badfilter]\nfilter = nope\n" +
			"[badaction]\nfilter = f\naction = nope\n[badsyntax]\nfilter = f[=x]\n",
		"filter.d/f.conf": "[Definition]\nfailregex = ^fail <HOST>$\n",
	})
	res, err := Read(dir, Options{AllowNoFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	st := streamText(res)
	if !strings.Contains(st, "['start', 'good']") {
		t.Errorf("good jail not started:\n%s", st)
	}
	for _, j := range []string{"badfilter", "badaction", "badsyntax"} {
		if strings.Contains(st, "['start', '"+j+"']") {
			t.Errorf("%s started", j)
		}
		if !strings.Contains(st, "Jail '"+j+"' skipped") {
			t.Errorf("%s not reported in the stream", j)
		}
	}
	all := strings.Join(res.Errors, "\n")
	for _, want := range []string{"jail.conf:6: jail 'badfilter': Unable to read the filter 'nope'", "jail.conf:9: jail 'badaction': Unable to read action 'nope'", "jail.conf:11: jail 'badsyntax': Invalid filter definition"} {
		if !strings.Contains(all, want) {
			t.Errorf("errors lack %q:\n%s", want, all)
		}
	}
}

// Errors in files name the file and line.
func TestFileErrorsHavePositions(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		want  string
	}{
		"syntax in jail.local": {map[string]string{"jail.conf": "[s]\nenabled = false\n", "jail.local": "[s]\njunk line\n"}, "jail.local:2:"},
		"interpolation":        {map[string]string{"jail.conf": "[s]\nenabled = %(nope)s\n"}, "jail.conf:2:"},
		"duplicate in include": {map[string]string{"jail.conf": "[INCLUDES]\nbefore = p.conf\n", "p.conf": "[DEFAULT]\na = 1\na = 2\n"}, "p.conf:3:"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Read(writeTree(t, tc.files), Options{AllowNoFiles: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// Without AllowNoFiles, a jail whose logpath matches nothing is an error for
// that jail only.
func TestMissingLogFile(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"jail.conf":       "[DEFAULT]\nenabled = true\nfilter = f\n[a]\nlogpath = /nonexistent/a.log\n[b]\nlogpath = LOG\n",
		"filter.d/f.conf": "[Definition]\nfailregex = ^fail <HOST>$\n",
	})
	log := filepath.Join(dir, "b.log")
	os.WriteFile(log, nil, 0o644)
	data, _ := os.ReadFile(filepath.Join(dir, "jail.conf"))
	os.WriteFile(filepath.Join(dir, "jail.conf"), []byte(strings.Replace(string(data), "LOG", log, 1)), 0o644)
	res, err := Read(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := streamText(res)
	if !strings.Contains(st, "['start', 'b']") || strings.Contains(st, "['start', 'a']") {
		t.Errorf("stream:\n%s", st)
	}
	if !strings.Contains(strings.Join(res.Errors, "\n"), "Have not found any log file for a jail") {
		t.Errorf("errors: %v", res.Errors)
	}
}

func TestIncludeLoopAndLocal(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"jail.conf":    "[INCLUDES]\nbefore = a.conf\n[DEFAULT]\nx = jail\n",
		"a.conf":       "[INCLUDES]\nbefore = jail.conf\nafter = b.conf\n[DEFAULT]\nx = a\ny = a\n",
		"a.local":      "[DEFAULT]\ny = a-local\n",
		"b.conf":       "[DEFAULT]\nz = b\n",
		".hidden.conf": "[DEFAULT]\nx = hidden\n",
	})
	fs := newFiles(dir)
	cfg, found, err := fs.read("jail")
	if err != nil || !found {
		t.Fatal(found, err)
	}
	for k, want := range map[string]string{"x": "jail", "y": "a-local", "z": "b"} {
		if got, err := cfg.Get("DEFAULT", k, nil); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", k, got, err, want)
		}
	}
}
