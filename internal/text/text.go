package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mozillazg/go-unidecode/table"
)

// Profile selects the Addok configuration reproduced.
type Profile uint8

const (
	// ProfileDefault is Addok core: tokenize -> normalize ->
	// flag_housenumber (first token if all digits) -> synonymize (no
	// synonyms unless given).
	ProfileDefault Profile = iota
	// ProfileFrench is the BAN configuration: query processors
	// extract_address, clean_query, remove_leading_zeros; then tokenize ->
	// normalize -> glue_ordinal -> fold_ordinal -> flag_housenumber (france)
	// -> synonymize (addok-fr synonyms) -> phonemicize.
	ProfileFrench
)

// String names the profile for logs and flags.
func (p Profile) String() string {
	switch p {
	case ProfileDefault:
		return "default"
	case ProfileFrench:
		return "french"
	}
	return "unknown"
}

// Config selects and tunes the pipeline.
type Config struct {
	Profile Profile
	// Synonyms maps a normalised token to the tokens replacing it. nil means
	// the profile's default: the embedded addok-fr file for ProfileFrench,
	// none for ProfileDefault. Keys and values are already normalised
	// (folded lowercase); a value may hold several tokens.
	Synonyms map[string][]string
	// FuzzyKeyMap gives, per letter, the letters a fuzzy substitution may
	// put in its place. nil means the AZERTY map of Addok's FUZZY_KEY_MAP.
	FuzzyKeyMap map[rune]string
	// FuzzyAllLetters reproduces FUZZY_KEY_MAP=None: substitute by every
	// letter a-z (FuzzyKeyMap is then ignored).
	FuzzyAllLetters bool
}

// Kind tells what a token is used for in a search.
type Kind uint8

const (
	// KindWord is looked up in the word index.
	KindWord Kind = iota
	// KindHousenumber only serves to match a housenumber of a result.
	KindHousenumber
)

// String names the kind for logs and golden files.
func (k Kind) String() string {
	if k == KindHousenumber {
		return "housenumber"
	}
	return "word"
}

// Token is one processed search token.
type Token struct {
	Value    string // processed form (what is looked up in the index)
	Position int    // position of the source word in the query (0-based), kept through synonym expansion
	Kind     Kind
	IsLast   bool // set on the last token of Pipeline.Query's output (Addok's is_last: the autocomplete target)
}

// Pipeline holds the compiled tables of one configuration. It is immutable
// after NewPipeline and safe for concurrent use.
type Pipeline struct {
	profile  Profile
	synonyms map[string][]string
	keyMap   map[rune][]rune // nil when substituting by every letter
}

// NewPipeline compiles the tables of cfg. In the French profile the
// synonym expansions are phonemicised here once, since phonemicize runs on
// every token a synonym produces.
func NewPipeline(cfg Config) *Pipeline {
	p := &Pipeline{profile: cfg.Profile}
	syn := cfg.Synonyms
	if syn == nil && cfg.Profile == ProfileFrench {
		syn = FrenchSynonyms()
	}
	if len(syn) > 0 {
		p.synonyms = make(map[string][]string, len(syn))
		for k, v := range syn {
			out := make([]string, 0, len(v))
			for _, w := range v {
				// A value may itself hold several whitespace separated
				// words (Addok splits the right-hand side at use).
				for _, f := range splitPyWhitespace(w) {
					if cfg.Profile == ProfileFrench {
						f = Phonemicize(f)
					}
					out = append(out, f)
				}
			}
			p.synonyms[k] = out
		}
	}
	if !cfg.FuzzyAllLetters {
		km := cfg.FuzzyKeyMap
		if km == nil {
			km = azertyKeyMap
		}
		p.keyMap = make(map[rune][]rune, len(km))
		for k, v := range km {
			p.keyMap[k] = []rune(v)
		}
	}
	return p
}

// Profile returns the profile the pipeline reproduces.
func (p *Pipeline) Profile() Profile { return p.profile }

// Index runs PROCESSORS on one field value (used at import): the processed
// tokens in order, duplicates kept (Addok divides the field boost by
// len(tokens), duplicates included). Housenumber-flagged tokens are
// included.
func (p *Pipeline) Index(value string) []string {
	var buf [16]tok
	toks := p.process(tokenize(buf[:0], value, false))
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.value
	}
	return out
}

// Query prepares a search query the way Addok's search preprocessing does:
// folded := ASCII(q); then the profile's QUERY_PROCESSORS on the folded
// string, then PROCESSORS. It returns the folded string (used for scoring
// and the length check) and the tokens in query order (not sorted by
// length; the caller sorts), with IsLast set on the last one. Positions
// count words of the string the query processors leave (extract_address
// may drop leading words), as Addok's do.
func (p *Pipeline) Query(q string) (folded string, tokens []Token) {
	folded = ASCII(q)
	return folded, p.QueryFolded(folded)
}

// QueryFolded is Query on a query already folded by ASCII: callers check
// the folded length (Addok's QUERY_MAX_LENGTH) before paying for the rest
// of the pipeline.
func (p *Pipeline) QueryFolded(folded string) (tokens []Token) {
	s := folded
	if p.profile == ProfileFrench {
		s = RemoveLeadingZeros(CleanQuery(ExtractAddress(s)))
	}
	var buf [16]tok
	toks := p.process(tokenize(buf[:0], s, true))
	if len(toks) == 0 {
		return nil
	}
	tokens = make([]Token, len(toks))
	for i, t := range toks {
		tokens[i] = Token{Value: t.value, Position: t.pos, Kind: t.kind}
	}
	tokens[len(tokens)-1].IsLast = true
	return tokens
}

// HousenumberKey is Addok's prepare_housenumbers key: the processed tokens
// of raw joined without separator ("1 bis" -> "1b", "10bis" -> "10b",
// "18" -> "dixui" in the French profile).
func (p *Pipeline) HousenumberKey(raw string) string {
	var buf [8]tok
	toks := p.process(tokenize(buf[:0], raw, false))
	switch len(toks) {
	case 0:
		return ""
	case 1:
		return toks[0].value
	}
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.value)
	}
	return b.String()
}

// tok is a token inside the pipeline.
type tok struct {
	value string
	pos   int
	kind  Kind
	// phonemes marks a synonym expansion, whose value was phonemicised
	// at NewPipeline already.
	phonemes bool
}

// process runs PROCESSORS after tokenize, reusing toks' storage where it
// can.
func (p *Pipeline) process(toks []tok) []tok {
	for i := range toks {
		toks[i].value = normalizeToken(toks[i].value)
	}
	if p.profile == ProfileFrench {
		toks = glueOrdinal(toks)
		for i := range toks {
			toks[i].value = FoldOrdinal(toks[i].value)
		}
		flagHousenumberFrance(toks)
	} else if len(toks) > 0 && toks[0].pos == 0 && IsAllDigits(toks[0].value) {
		toks[0].kind = KindHousenumber
	}
	toks = p.synonymize(toks)
	if p.profile == ProfileFrench {
		for i := range toks {
			if !toks[i].phonemes {
				toks[i].value = Phonemicize(toks[i].value)
			}
		}
	}
	return toks
}

// synonymize replaces each token found in the synonyms by its expansion;
// the expansion keeps the source token's position and kind. A token holding
// whitespace (unidecode can produce some) is split, as Addok's
// str.split() does.
func (p *Pipeline) synonymize(toks []tok) []tok {
	need := false
	for _, t := range toks {
		if _, ok := p.synonyms[t.value]; ok || t.value == "" || hasPyWhitespace(t.value) {
			need = true
			break
		}
	}
	if !need {
		return toks
	}
	out := make([]tok, 0, len(toks)+4)
	for _, t := range toks {
		if exp, ok := p.synonyms[t.value]; ok {
			for _, v := range exp {
				out = append(out, tok{value: v, pos: t.pos, kind: t.kind, phonemes: true})
			}
			continue
		}
		if t.value == "" || hasPyWhitespace(t.value) {
			for _, v := range splitPyWhitespace(t.value) {
				out = append(out, tok{value: v, pos: t.pos, kind: t.kind})
			}
			continue
		}
		out = append(out, t)
	}
	return out
}

// tokenize is Addok's re.findall(r"\w+") with Unicode \w, positions
// counted from 0. asciiOnly skips the rune decoding when the caller knows
// the string is the ASCII output of ASCII.
func tokenize(dst []tok, s string, asciiOnly bool) []tok {
	start := -1
	pos := 0
	for i := 0; i < len(s); {
		c := s[i]
		var w bool
		size := 1
		if c < utf8.RuneSelf || asciiOnly {
			w = asciiWord[c]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			w = isWordRune(r)
		}
		if w {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			dst = append(dst, tok{value: s[start:i], pos: pos})
			pos++
			start = -1
		}
		i += size
	}
	if start >= 0 {
		dst = append(dst, tok{value: s[start:], pos: pos})
	}
	return dst
}

// Tokenize is Addok's tokenize: re.findall(r"\w+") with Unicode \w
// (letters, numbers and "_"; combining marks split words).
func Tokenize(s string) []string {
	var buf [16]tok
	toks := tokenize(buf[:0], s, false)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.value
	}
	return out
}

// normalizeToken is Addok's normalize: unidecode(token.lower()).
func normalizeToken(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return Fold(s)
		}
		if 'A' <= c && c <= 'Z' {
			return Fold(s)
		}
	}
	return s
}

var asciiWord = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	t['_'] = true
	return t
}()

// isWordRune is Python's Unicode \w: str.isalnum() or "_". Combining marks
// are not word characters.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWord[r]
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// isPyDigit approximates Python's str.isdigit() for one rune: decimal
// digits plus the characters whose Numeric_Type is Digit (superscripts,
// circled digits...), which Go's unicode.IsDigit leaves out.
func isPyDigit(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	if unicode.IsDigit(r) {
		return true
	}
	return unicode.Is(numericTypeDigit, r)
}

// numericTypeDigit lists the non-Nd characters with Numeric_Type=Digit
// (UnicodeData.txt field 7 set and field 6 empty).
var numericTypeDigit = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x00b2, Hi: 0x00b3, Stride: 1},
		{Lo: 0x00b9, Hi: 0x00b9, Stride: 1},
		{Lo: 0x1369, Hi: 0x1371, Stride: 1},
		{Lo: 0x19da, Hi: 0x19da, Stride: 1},
		{Lo: 0x2070, Hi: 0x2070, Stride: 1},
		{Lo: 0x2074, Hi: 0x2079, Stride: 1},
		{Lo: 0x2080, Hi: 0x2089, Stride: 1},
		{Lo: 0x2460, Hi: 0x2468, Stride: 1},
		{Lo: 0x2474, Hi: 0x247c, Stride: 1},
		{Lo: 0x2488, Hi: 0x2490, Stride: 1},
		{Lo: 0x24ea, Hi: 0x24ea, Stride: 1},
		{Lo: 0x24f5, Hi: 0x24fd, Stride: 1},
		{Lo: 0x24ff, Hi: 0x24ff, Stride: 1},
		{Lo: 0x2776, Hi: 0x277e, Stride: 1},
		{Lo: 0x2780, Hi: 0x2788, Stride: 1},
		{Lo: 0x278a, Hi: 0x2792, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x10a40, Hi: 0x10a43, Stride: 1},
		{Lo: 0x10e60, Hi: 0x10e68, Stride: 1},
		{Lo: 0x11052, Hi: 0x1105a, Stride: 1},
		{Lo: 0x1f100, Hi: 0x1f10a, Stride: 1},
	},
}

// IsAllDigits reports whether s is non-empty and all digits (Python
// str.isdigit semantics as far as practical).
func IsAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				if !isPyDigit(r) {
					return false
				}
			}
			return true
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Fold is lowercase + unidecode only (Addok's normalize, and the
// comparison form used in label scoring before alphanumerize).
func Fold(s string) string {
	ascii := true
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if ascii {
		if !upper {
			return s
		}
		b := []byte(s)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	b := make([]byte, 0, len(s)+8)
	return string(appendFold(b, s))
}

// appendFold appends unidecode(lower(s)) to b. Lower-casing is per rune
// (Python's only multi-rune lowercase, U+0130, ends up as "i" either way
// once unidecode drops the combining dot).
func appendFold(b []byte, s string) []byte {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b = append(b, byte(r))
			continue
		}
		b = append(b, unidecodeRune(unicode.ToLower(r))...)
	}
	return b
}

// unidecodeRune is Python unidecode's replacement for one non-ASCII rune:
// nothing for the private planes and unknown code points.
func unidecodeRune(r rune) string {
	if r > 0xeffff {
		return ""
	}
	if r < utf8.RuneSelf {
		return string(r)
	}
	// go-unidecode 0.2.0 differs from Python's unidecode 1.3 (Addok's) on
	// these three code points only (checked over U+0080..U+2FFFF): it adds
	// a trailing space, which splits "½ch" into 1, 2, ch instead of 1, 2ch.
	switch r {
	case 0xbc:
		return " 1/4"
	case 0xbd:
		return " 1/2"
	case 0xbe:
		return " 3/4"
	}
	tb, ok := table.Tables[r>>8]
	if !ok {
		return ""
	}
	pos := int(r & 0xff)
	if pos >= len(tb) {
		return ""
	}
	return tb[pos]
}

// ASCII is Addok's ascii(): lowercase + unidecode, then every non-word
// character becomes a space, runs of spaces collapse and the ends are
// trimmed. Like Addok, unidecode may emit capitals ("中" -> "Zhong") that
// are not lowered again.
func ASCII(s string) string {
	// Fast path: ASCII input already lowercase and clean is returned as is.
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			clean = false
			break
		}
		if !asciiWord[c] {
			if c != ' ' || i == 0 || i == len(s)-1 || s[i+1] == ' ' {
				clean = false
				break
			}
		} else if 'A' <= c && c <= 'Z' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var stack [128]byte
	b := stack[:0]
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			b = appendFold(b, s)
			return alphanumerizeASCII(b)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return alphanumerizeASCII(b)
}

// alphanumerizeASCII is alphanumerize on unidecode output (pure ASCII),
// in place.
func alphanumerizeASCII(b []byte) string {
	w := 0
	space := false
	for _, c := range b {
		if asciiWord[c] {
			if space && w > 0 {
				b[w] = ' '
				w++
			}
			space = false
			b[w] = c
			w++
		} else {
			space = true
		}
	}
	return string(b[:w])
}

// Alphanumerize is Addok's alphanumerize: every non-word character (Unicode
// \w) becomes a space, runs of spaces collapse, the ends are trimmed. Case
// and accents are kept ("rue d'Andrésy" -> "rue d Andrésy").
func Alphanumerize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if isWordRune(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	if b.Len() == len(s) && b.String() == s {
		return s
	}
	return b.String()
}

// EdgeNgrams is Addok's compute_edge_ngrams: the word is first cut to
// max+1 runes, then its prefixes of min..len-1 runes are returned (the
// whole word is never included). A negative min counts as 0, a max below 0
// as 0.
func EdgeNgrams(word string, min, max int) []string {
	if min < 0 {
		min = 0
	}
	if max < 0 {
		max = 0
	}
	l := utf8.RuneCountInString(word)
	if l > max+1 {
		l = max + 1
	}
	if min >= l {
		return nil
	}
	out := make([]string, 0, l-min)
	k := 0
	for i := range word {
		if k >= l {
			break
		}
		if k >= min {
			out = append(out, word[:i])
		}
		k++
	}
	return out
}

// pyWhitespace reports Python's str.isspace() for one ASCII byte.
func pyWhitespaceByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f:
		return true
	}
	return false
}

// isPySpace is Python's str.isspace() for one rune.
func isPySpace(r rune) bool {
	if r < utf8.RuneSelf {
		return pyWhitespaceByte(byte(r))
	}
	return unicode.IsSpace(r)
}

func hasPyWhitespace(s string) bool {
	for i := 0; i < len(s); i++ {
		if pyWhitespaceByte(s[i]) {
			return true
		}
	}
	return false
}

// splitPyWhitespace is Python's str.split() without argument.
func splitPyWhitespace(s string) []string {
	return strings.FieldsFunc(s, isPySpace)
}

// pyStrip is Python's str.strip() without argument.
func pyStrip(s string) string {
	return strings.TrimFunc(s, isPySpace)
}
