package regextest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// lineSource yields the lines to test.
type lineSource struct {
	sc    *bufio.Scanner
	list  []string
	i     int
	text  string
	isLog bool
}

func (l *lineSource) next() bool {
	for {
		if l.sc != nil {
			if !l.sc.Scan() {
				return false
			}
			l.text = string(bytes.ToValidUTF8(l.sc.Bytes(), []byte("\uFFFD")))
		} else {
			if l.i >= len(l.list) {
				return false
			}
			l.text = l.list[l.i]
			l.i++
		}
		l.text = strings.TrimRight(l.text, "\r\n")
		if strings.HasPrefix(l.text, "#") || l.text == "" {
			continue
		}
		return true
	}
}

func (l *lineSource) err() error {
	if l.sc != nil {
		return l.sc.Err()
	}
	return nil
}

func openLines(arg string, maxLines int, out func(string, ...any)) (*lineSource, func(), error) {
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		fh, err := os.Open(arg)
		if err != nil {
			return nil, nil, err
		}
		out("Use         log file : %s", arg)
		out("Use         encoding : UTF-8")
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		return &lineSource{sc: sc, isLog: true}, func() { fh.Close() }, nil
	}
	if maxLines <= 1 && !strings.Contains(arg, "\n") {
		out("Use      single line : %s", shortstr(arg))
		return &lineSource{list: []string{arg}}, func() {}, nil
	}
	list := strings.Split(arg, "\n")
	out("Use      multi line : %d line(s)", len(list))
	for i, l := range list {
		if i >= 5 {
			out("| ...")
			break
		}
		out("| %2.2s: %s", fmt.Sprint(i+1), shortstr(l))
	}
	out("`-")
	return &lineSource{list: list}, func() {}, nil
}
