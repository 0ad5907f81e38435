package fail2ban

// odict is an insertion-ordered map, the Python dict whose order decides
// the order of fail2ban's command stream. Values are string, int, bool or
// nil (Python's None).
type odict struct {
	keys []string
	m    map[string]any
}

func newODict() *odict { return &odict{m: map[string]any{}} }

func (d *odict) get(k string) (any, bool) {
	if d == nil {
		return nil, false
	}
	v, ok := d.m[k]
	return v, ok
}

// str returns the value of k when it is a string.
func (d *odict) str(k string) string {
	v, _ := d.get(k)
	s, _ := v.(string)
	return s
}

func (d *odict) has(k string) bool { _, ok := d.get(k); return ok }

func (d *odict) set(k string, v any) {
	if _, ok := d.m[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.m[k] = v
}

func (d *odict) len() int {
	if d == nil {
		return 0
	}
	return len(d.keys)
}

func (d *odict) clone() *odict {
	c := newODict()
	if d != nil {
		for _, k := range d.keys {
			c.set(k, d.m[k])
		}
	}
	return c
}

// merged returns {**d, **o}: d's keys first, o's values winning.
func (d *odict) merged(o *odict) *odict {
	if o.len() == 0 {
		return d
	}
	c := d.clone()
	for _, k := range o.keys {
		c.set(k, o.m[k])
	}
	return c
}

// vars converts d to configparser vars: lower-case keys, values as Python's
// str() renders them, None entries left out.
func (d *odict) vars() map[string]string {
	if d.len() == 0 {
		return nil
	}
	out := make(map[string]string, len(d.keys))
	for _, k := range d.keys {
		if v := d.m[k]; v != nil {
			out[toLower(k)] = pyStr(v)
		}
	}
	return out
}

// Get returns the value of k; it lets the configuration model read the
// [Thread] settings, which travel as a dict.
func (d *odict) Get(k string) (any, bool) { return d.get(k) }
