package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestKind(t *testing.T) {
	for files, want := range map[string]string{
		"jail.conf": KindFail2ban, "jail.local": KindFail2ban, "fail2ban.conf": KindFail2ban,
		"f2bx.toml": KindNative, "jails.d/": KindNative, "filters.d/": KindNative, "other.txt": "",
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, files)
		if strings.HasSuffix(files, "/") {
			os.Mkdir(p, 0o755)
		} else {
			os.WriteFile(p, nil, 0o644)
		}
		if got := Kind(dir); got != want {
			t.Errorf("Kind with %s = %q, want %q", files, got, want)
		}
	}
}

func TestLoadDirs(t *testing.T) {
	emb := fstest.MapFS{
		"jails.d/svc.toml":   {Data: []byte("[svc]\nenabled = true\nfilter = \"svc\"\nlogpath = [\"/x\"]\n")},
		"filters.d/svc.toml": {Data: []byte("failregex = ['^x <HOST>$']\njournalmatch = ['_COMM=svc']\n")},
	}
	none := func(string) ([]string, error) { return nil, nil }
	res, err := Load(Options{Embedded: emb, Glob: none, StandardDirs: []string{t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Config.Source.Kind != KindEmbedded {
		t.Errorf("kind %q, want embedded", res.Config.Source.Kind)
	}
	if j := res.Config.Jail("svc"); j == nil || j.Backend != "systemd" {
		t.Errorf("embedded svc jail: %+v", j)
	}

	native := t.TempDir()
	os.MkdirAll(filepath.Join(native, "jails.d"), 0o755)
	os.WriteFile(filepath.Join(native, "jails.d", "svc.toml"), []byte("[svc]\nmaxretry = 9\n"), 0o644)
	res, err = Load(Options{Dir: native, Embedded: emb})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Config; c.Source.Kind != KindNative || c.Jail("svc") == nil || c.Jail("svc").MaxRetry != 9 {
		t.Errorf("native dir over the embedded layer: %+v", c)
	}

	f2b := t.TempDir()
	os.MkdirAll(filepath.Join(f2b, "filter.d"), 0o755)
	log := filepath.Join(f2b, "svc.log")
	os.WriteFile(log, nil, 0o644)
	os.WriteFile(filepath.Join(f2b, "jail.conf"), []byte("[svc]\nenabled = true\nfilter = svc\nlogpath = "+f2b+"/*.log tail\n"), 0o644)
	os.WriteFile(filepath.Join(f2b, "filter.d", "svc.conf"), []byte("[Definition]\nfailregex = ^x <HOST>$\n"), 0o644)
	res, err = Load(Options{Dir: f2b})
	if err != nil {
		t.Fatal(err)
	}
	j := res.Config.Jail("svc")
	if res.Config.Source.Kind != KindFail2ban || j == nil || len(res.Stream) == 0 {
		t.Fatalf("fail2ban dir: %+v", res.Config)
	}
	if len(j.LogPaths) != 1 || j.LogPaths[0].Path != f2b+"/*.log" || !j.LogPaths[0].Tail {
		t.Errorf("logpaths keep the glob: %+v", j.LogPaths)
	}

	if _, err := Load(Options{Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "neither a fail2ban") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := Load(Options{Dir: "/nonexistent/f2bx"}); err == nil {
		t.Error("no error for a missing dir")
	}
}
