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

// TestBuiltinActionNames: in a fail2ban configuration, f2bx-xdp and
// f2bx-nftables name f2bx's backends, with their parameters, ahead of an
// action.d file of the same name; other actions are read as usual.
func TestBuiltinActionNames(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "auth.log")
	files := map[string]string{
		"jail.conf": "[DEFAULT]\nbanaction = f2bx-xdp\n\n[sshd]\nenabled = true\nlogpath = " + logf + "\nfailregex = ^fail <HOST>$\n" +
			"action = %(banaction)s[interfaces=\"eth0 eth1\", mode=native]\n         f2bx-nftables[hook=forward]\n         echo\n",
		"action.d/f2bx-xdp.conf": "[Definition]\nactionban = echo never <ip>\n",
		"action.d/echo.conf":     "[Definition]\nactionban = echo <ip>\n",
		"auth.log":               "",
	}
	for name, data := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Load(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	j := res.Config.Jail("sshd")
	if j == nil || len(j.Actions) != 3 {
		t.Fatalf("jail %+v, errors %v", j, res.Config.Errors)
	}
	xdp, nft, echo := j.Actions[0], j.Actions[1], j.Actions[2]
	if xdp.Backend() != "f2bx-xdp" || nft.Backend() != "f2bx-nftables" || echo.Backend() != "" {
		t.Errorf("backends %q %q %q", xdp.Backend(), nft.Backend(), echo.Backend())
	}
	if v, _ := xdp.Get("interfaces"); v != "eth0 eth1" {
		t.Errorf("interfaces %q", v)
	}
	if v, _ := xdp.Get("mode"); v != "native" {
		t.Errorf("mode %q", v)
	}
	if _, ok := xdp.Get("actionban"); ok {
		t.Error("action.d/f2bx-xdp.conf was read")
	}
	if v, _ := nft.Get("hook"); v != "forward" {
		t.Errorf("hook %q", v)
	}
	if v, _ := echo.Get("actionban"); v != "echo <ip>" {
		t.Errorf("echo actionban %q", v)
	}
}
