package main

import (
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// colors per run label, so that f2bx and fail2ban look the same on every
// figure.
var colors = map[string]color.Color{
	"f2bx (file)":     color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"f2bx (ring)":     color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	"fail2ban (file)": color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
}

// plotRates draws one PNG per rate: the invalid requests reaching the
// server each second (log scale, +1 so that zero shows), every IPS of that
// rate on one figure. It returns the files written.
func plotRates(dir string, rs []*result) ([]string, error) {
	rates, by := resultsByRate(rs)
	var files []string
	for _, rate := range rates {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("Invalid requests reaching the server, flood at %s", rateName(rate))
		p.X.Label.Text = "seconds"
		p.Y.Label.Text = "requests/s + 1 (log scale)"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Legend.Top = true
		for _, r := range by[rate] {
			pts := make(plotter.XYs, len(r.Seconds))
			for i, s := range r.Seconds {
				pts[i].X, pts[i].Y = s.T, float64(s.InvalidServer)+1
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			label := r.IPS + " (" + r.Source + ")"
			if c, ok := colors[label]; ok {
				l.Color = c
			}
			l.Width = vg.Points(1.5)
			p.Add(l)
			p.Legend.Add(label, l)
		}
		// The axis starts at 1 (nothing reached the server) and spans a
		// decade at least: a run where every second shows the same count
		// would otherwise get a range around it that reaches 0, which a
		// log scale cannot draw.
		p.Y.Min, p.Y.Max = 1, max(p.Y.Max, 10)
		f := filepath.Join(dir, "flood-"+rateKey(rate)+".png")
		if err := p.Save(8*vg.Inch, 4*vg.Inch, f); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}
