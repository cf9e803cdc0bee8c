"""Reference outputs for balise/internal/text, computed with Python's re.

Run from this directory with Debian's python3 and python3-unidecode
(apt-get install python3-unidecode):

    /usr/bin/python3 gen.py

It rewrites the *.jsonl files that TestReference checks. The patterns are
the tables of the Addok spec (TABLES.md: addok-fr 1.1.0 phonemicisation,
addok-france 1.2.0 TYPES/CLEAN_PATTERNS, MIT, see ../../NOTICE); the
functions applying them follow the spec's description of Addok's
processors. Python's own regex engine (look-arounds, back-references,
backtracking) is the point: the Go code reimplements those by hand.
"""
import json
import random
import re
import string
from collections import Counter

from unidecode import unidecode

PHONEMES = [
    (r"(?<=a)(mp|nd|nt)s?$", "n"),
    (r"([aeiouy])mp(?=[^aeiouyr])", r"\1n"),
    (r"ngt(?=[aeiouy])", "nt"),
    (r"ngt", "n"),
    (r"((?<=[^g])g|^g)(?=[eyi])", "j"),
    (r"(?<=g)u(?=[aeio])", ""),
    (r"(?<=ei)gn([aeiouy])", r"ni\1"),
    (r"je([aeiouy])", r"j\1"),
    (r"c(?=[^hieyw])", "k"),
    (r"anc$", "an"),
    (r"((?<=[^s])ch|(?<=[^0-9])c)$", "k"),
    (r"(?<=[aeiouy])s(?=[aeiouy])", "z"),
    (r"((?<=[^0-9])q|^q)u?", "k"),
    (r"cc(?=[ie])", "s"),
    (r"ck", "k"),
    (r"ph", "f"),
    (r"th$", "te"),
    (r"(?<=[^sc0-9])h", ""),
    (r"^h(?=.)+", ""),
    (r"sc", "s"),
    (r"sh", "ch"),
    (r"((?<=[^0-9])w|^w)", "v"),
    (r"c(?=[eiy])", "s"),
    (r"((?<=[^0-9])y|^y)", "i"),
    (r"esn", "en"),
    (r"eim( |$)", "aim"),
    (r"(ae|ei)(?=\w)", "e"),
    (r"oeufs( |$)", "eu"),
    (r"oeu?(?=\w)", "eu"),
    (r"(?<=[^0-9])s$", ""),
    (r"(?<=u)l?x$", ""),
    (r"(?<=u)lt$", "t"),
    (r"(?<=[a-z])[dg]$", ""),
    (r"(?<=[^es0-9])t$", ""),
    (r"(?<=[aeiou])(m)(?=[pbgft])", "n"),
    (r"(?<=[a-z]{2})(e$)", ""),
    (r"(?<=[aeiouy])n[dt](?=[^aeiouyr])", "n"),
    (r"([a-z])\1+", r"\1"),
]
PHONEMES_C = [(re.compile(p), r) for p, r in PHONEMES]


def phonemicize(s):
    for p, r in PHONEMES_C:
        s = p.sub(r, s)
    return s


TYPES = [
    "aer(odrome)?", "all([ée]es?)?", "anc(ien(ne)?)?", "av(enue)?", "b(oulevar|l?v?)?d",
    "b(ou)?cle", "ber(ges?)?", "bois", "c(en)?tre", "c(ou)?rs?", "c[ôo]te", "carr?(efour)?",
    "ch(am)?p", "chauss[ée]e", "che?(m(in)?)?", "cit[ée]", "clos", "desserte", "devi(ation)?",
    "dig(ue)?", "dom(aine)?", "embr(anchement)?", "espl?(anade)?", "eta?ng", "éta?ng",
    "f(aubour|b|bour)?g", "giratoire", "gr(ande?)?", "gr(e|es|s)?", "ham(eau)?", "imp(asse)?",
    "j[ée]?t[ée]e", "jard(in)?", "l[ôo]t(issement)?", "mont", "mont[ée]e", "p(arvis|rvs?|vr)?",
    "p(asserel|l)?le", "p(lace)?tte", "p(or)?te", "parc", "pas(se)?", "pass(age)?", "pl(ace)?",
    "porte", "pr[ée]", "pro?m(enade)?", "q(uart(ier)?|ua|rt(ier)?)", "qu?(ai)?", "r(ou)?te",
    "r(uel|l)?le", "r(ue)?", "r[ée]s(idence)?", "rd?pt", "rocade", "rond[- ]point",
    "sent(e|ier)", "squ?(are)?", "t(erra)?sse", "taillis", "trav(erse)?", "tunn?(el)?",
    "v(il|l)?la", "via", "viad(uc)?", "voie", "[îi]lot",
]
TYPES_REGEX = "|".join(TYPES)
ORDINAL = "bis|ter|quater|quinquies|sexies|[a-z]"
EXTRACT = re.compile(r"(\b\d{1,4}( *(" + ORDINAL + "))?,? +(" + TYPES_REGEX + r") .*(\d{5})?).*", re.I)
ORDINAL_P = re.compile(r"\b(" + ORDINAL + r")\b", re.I)
TYPES_P = re.compile(r"\b(" + TYPES_REGEX + r")\b", re.I)
FOLD_P = re.compile(r"^(\d{1,4})(" + ORDINAL + ")$", re.I)
NUMBER_P = re.compile(r"\b\d{1,4}[a-z]?\b", re.I)
FOLD = {"bis": "b", "ter": "t", "quater": "q", "quinquies": "c", "sexies": "s"}
CLEAN = [
    (r"([\d]{5})", r" \1 "),
    (r"(^| )(b\.?p\.?|cs|tsa|cidex) *(n(o|°|) *|)[\d]+ *", r"\1"),
    (r"([\d]{2})[\d]{3}(.*)c(e|é)dex ?[\d]*", r"\1\2"),
    (r"c(e|é)dex ?[\d]*", ""),
    (r"\d{,2}(e|[eè]me) ([eé]tage)", ""),
    (r" {2,}", " "),
    (r"[ -]s/[ -]", " sur "),
    (r"[ -]s/s[ -]", " sous "),
    (r"^lieux?[ -]?dits?\b(?=.)", ""),
]
CLEAN_C = [(re.compile(p, re.I), r) for p, r in CLEAN]


def clean_query(q):
    for p, r in CLEAN_C:
        q = p.sub(r, q)
    return q.strip()


def extract_address(q):
    m = EXTRACT.search(q)
    return m.group() if m else q


def remove_leading_zeros(s):
    return re.sub(r"\b0+(\d{1,3})\b", r"\g<1>", s, flags=re.I)


def fold_ordinal(s):
    if s and s[0].isdigit() and not s.isdigit():
        m = FOLD_P.findall(s)
        if m:
            number, ordinal = m[0]
            s = number + FOLD.get(ordinal.lower(), ordinal)
    return s


def glue_ordinal(toks):
    """toks: [value, position, kind] lists."""
    out, prev = [], None
    for i, t in enumerate(toks):
        nxt = toks[i + 1][0] if i + 1 < len(toks) else None
        if nxt and t[0].isdigit():
            prev = t
            continue
        if prev is not None:
            if ORDINAL_P.match(t[0]) and (not nxt or TYPES_P.match(nxt)):
                t = [(prev[0] + " " + t[0]).replace(" ", ""), prev[1], prev[2]]
            else:
                out.append(prev)
            prev = None
        out.append(t)
    return out


def flag_housenumber(toks):
    for i, t in enumerate(toks):
        nxt = toks[i + 1][0] if i + 1 < len(toks) else None
        if (t[1] == 0 or (nxt and TYPES_P.match(nxt))) and NUMBER_P.match(t[0]):
            t[2] = "housenumber"
            return


SYNONYMS = {}
with open("../../synonyms-fr.txt") as f:
    for line in f:
        if line.startswith("#"):
            continue
        left, right = line.split("=>")
        for s in left.split(","):
            if s.strip():
                SYNONYMS[s.strip()] = right.strip()


def ascii_(s):
    return re.sub(r" {2,}", " ", re.sub(r"[^\w]", " ", unidecode(s.lower()))).strip()


def processors(s):
    toks = [[unidecode(t.lower()), i, "word"] for i, t in enumerate(re.findall(r"\w+", s))]
    toks = glue_ordinal(toks)
    for t in toks:
        t[0] = fold_ordinal(t[0])
    flag_housenumber(toks)
    out = []
    for t in toks:
        for sub in SYNONYMS.get(t[0], t[0]).split():
            out.append([phonemicize(sub), t[1], t[2]])
    return out


def query(q):
    folded = ascii_(q.strip())
    return folded, processors(remove_leading_zeros(clean_query(extract_address(folded))))


KEYMAP = {"a": "ezqop", "z": "aqse", "e": "azsdryu", "r": "edft", "t": "rfgy", "y": "teghu",
          "u": "yehji", "i": "ujko", "o": "iaklp", "p": "oalm", "q": "azsw", "s": "qzedxw",
          "d": "serfcx", "f": "drtgvc", "g": "ftyhbv", "h": "gyujnb", "j": "huikn", "k": "jil",
          "l": "kom", "m": "lpu", "w": "qsx", "x": "wsdc", "c": "xdfvio", "v": "cfgb",
          "b": "vghn", "n": "bhj"}


def make_fuzzy(word, keymap):
    out = []
    for i in range(len(word) - 1):
        n = list(word)
        n[i], n[i + 1] = n[i + 1], n[i]
        out.append("".join(n))
    if keymap is not None:
        for i in range(len(word)):
            n = list(word)
            if n[i] in keymap:
                for letter in keymap[n[i]]:
                    if letter != n[i]:
                        n[i] = letter
                        out.append("".join(n))
    else:
        for letter in string.ascii_lowercase:
            for i in range(len(word)):
                n = list(word)
                if letter != n[i]:
                    n[i] = letter
                    out.append("".join(n))
    for letter in string.ascii_lowercase:
        for i in range(len(word) + 1):
            n = list(word)
            n.insert(i, letter)
            out.append("".join(n))
    if len(word) > 3:
        for i in range(len(word)):
            n = list(word)
            del n[i]
            out.append("".join(n))
    return list(dict.fromkeys(out))


def ngram_compare(a, b):
    """python-ngram NGram.compare(a, b, N=2, pad_len=0), with Addok's
    one-character rule."""
    if len(a) == 1 and len(b) == 1:
        return 1.0 if a == b else 0.0
    ga = [a[i:i + 2] for i in range(len(a) - 1)]
    gb = [b[i:i + 2] for i in range(len(b) - 1)]
    remaining = Counter(ga)
    same = 0
    for g in gb:
        if remaining[g] > 0:
            remaining[g] -= 1
            same += 1
    if same == 0:
        return 0.0
    return same / (len(ga) + len(gb) - same)


def write(name, rows):
    with open(name, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main():
    rnd = random.Random(20261123)
    chunks = ["amp", "amps", "and", "ant", "mp", "ngt", "gn", "ei", "gu", "je", "cc", "ck", "ph", "th",
              "sh", "sc", "eim", "oeufs", "oeu", "oe", "ae", "ulx", "ult", "ux", "qu", "anc", "ch", "sch",
              "h", "w", "y", "nd", "nt", "ll", "ss", "e", "s", "t", "d", "g", "c", "1", "0"]
    words = set()
    while len(words) < 2500:
        words.add("".join(rnd.choice("aeioubcdfghjklmnpqrstvwxyz0123456789") for _ in range(rnd.randint(1, 10))))
    while len(words) < 5000:
        words.add("".join(rnd.choice(chunks) for _ in range(rnd.randint(1, 4))))
    write("phonemes.jsonl", [[w, phonemicize(w)] for w in sorted(words)])

    vocab = ["rue", "Rue", "RUE", "r", "av", "avenue", "bd", "des", "de", "la", "du", "Sapins", "bis", "ter",
             "b", "quater", "quinquies", "10", "18", "8", "3", "12", "14", "241", "6000", "75019", "31068",
             "93290", "Vosges93290", "1er", "2e", "12e", "3eme", "4ème", "étage", "ÉTAGE", "mai", "Paris",
             "TOULOUSE", "CEDEX", "Cédex", "7", "07", "0003", "00", "0", "02230", "allée", "Allées", "Jules",
             "Guesde", "st", "Saint-Germain", "champs", "élysées", "BP", "B.P.", "bp", "cs", "CS", "tsa",
             "TSA", "cidex", "N°", "No", "n", "7015", "Lieu-Dit", "Lieux-Dits", "LieuDit", "lieu", "dit",
             "Les", "Chênes", "s/", "s/s", "imp", "place", "pl", "quai", "q", "chemin", "ch", "route",
             "rte", "grand", "Grande", "résidence", "res", "hameau", "îlot", "ilot", "rond", "point",
             "Rond-Point", "xviii", "x", "i", "iv", "Hôtel-de-Ville", "l'Église", "presqu'île", "½", "²",
             "①", "中", "ʀ", "١٢٣٤٥", "_", "a", "h", "y", "w", "é", ",", "-", "\n"]
    seps = [" ", " ", " ", ", ", "-", "  ", "/", ".", ""]
    france, pipeline = [], []
    for n in range(1500):
        k = rnd.randint(1, 8)
        q = rnd.choice(["", "", " "]) + "".join(
            rnd.choice(vocab) + (rnd.choice(seps) if i < k - 1 else "") for i in range(k))
        toks = [[t.lower(), i, "word"] for i, t in enumerate(q.replace(",", " ").replace("-", " ").split())]
        glued = glue_ordinal([list(t) for t in toks])
        flagged = [list(t) for t in toks]
        flag_housenumber(flagged)
        flag = next((i for i, t in enumerate(flagged) if t[2] == "housenumber"), -1)
        france.append({
            "q": q, "clean": clean_query(q), "extract": extract_address(q),
            "zeros": remove_leading_zeros(q), "tokens": [t[0] for t in toks],
            "glue": [t[0] for t in glued], "fold": [fold_ordinal(t[0]) for t in toks], "flag": flag,
        })
        folded, qt = query(q)
        pipeline.append({"q": q, "folded": folded, "tokens": qt, "index": [t[0] for t in processors(q)]})
    write("france.jsonl", france)
    write("pipeline.jsonl", pipeline)

    fuzzy = []
    for w in ["mot", "train", "allee", "a", "ab", "kk", "aaaa", "serji", "10b", "éte"] + [
            "".join(rnd.choice("azertyuiopmlkjhgfdsqwxcvbn") for _ in range(rnd.randint(1, 8))) for _ in range(20)]:
        fuzzy.append({"word": w, "azerty": make_fuzzy(w, KEYMAP), "all": make_fuzzy(w, None)})
    write("fuzzy.jsonl", fuzzy)

    labels = ["rue des lilas", "rue des lilas 75019 paris", "10 rue des sapins pouembout", "a", "b", "",
              "ab", "aaaa", "rue de paris", "été", "été à paris"]
    ngrams = []
    for i in range(1500):
        a = rnd.choice(labels) if i % 3 == 0 else "".join(rnd.choice("aeiou rstlné") for _ in range(rnd.randint(0, 40)))
        b = rnd.choice(labels) if i % 4 == 0 else "".join(rnd.choice("aeiou rstln") for _ in range(rnd.randint(0, 40)))
        if i % 50 == 0:
            a = "x" * rnd.randint(90, 200) + "".join(rnd.choice("xy ") for _ in range(rnd.randint(0, 100)))
        ngrams.append([a, b, ngram_compare(a, b)])
    write("ngram.jsonl", ngrams)


if __name__ == "__main__":
    main()
