"""People's names for the sample roster, written the way each market's HR exports them.

Some markets' exports carry names in their own script (Thai, Japanese, Korean, Chinese), others in
Latin letters with or without diacritics, so the importer and the UI meet both.
"""

from __future__ import annotations

import numpy as np

# Parallel lists: the same person in native script and in romanisation, so a market can mix both.
_TH_GIVEN = (
    ("สมชาย", "Somchai"), ("สุดารัตน์", "Sudarat"), ("ปิยะพงษ์", "Piyaphong"), ("กมลชนก", "Kamonchanok"),
    ("ณัฐวุฒิ", "Nattawut"), ("พิมพ์ชนก", "Pimchanok"), ("ธนากร", "Thanakorn"), ("วรรณา", "Wanna"),
    ("อนันต์", "Anan"), ("ศิริพร", "Siriporn"), ("กิตติ", "Kitti"), ("จันทร์เพ็ญ", "Chanpen"),
)
_TH_FAMILY = (
    ("ศรีสุข", "Srisuk"), ("ใจดี", "Jaidee"), ("วงศ์สวัสดิ์", "Wongsawat"), ("แสงทอง", "Saengthong"),
    ("บุญมา", "Boonma"), ("ทองดี", "Thongdee"), ("รัตนพันธ์", "Rattanaphan"), ("สุขเจริญ", "Sukcharoen"),
)
_JP_FAMILY = (
    ("佐藤", "Sato"), ("鈴木", "Suzuki"), ("高橋", "Takahashi"), ("田中", "Tanaka"), ("伊藤", "Ito"),
    ("渡辺", "Watanabe"), ("山本", "Yamamoto"), ("中村", "Nakamura"), ("小林", "Kobayashi"),
)
_JP_GIVEN = (
    ("陽菜", "Hina"), ("蓮", "Ren"), ("結衣", "Yui"), ("大翔", "Hiroto"), ("美咲", "Misaki"),
    ("翔太", "Shota"), ("葵", "Aoi"), ("拓海", "Takumi"), ("さくら", "Sakura"), ("健太", "Kenta"),
)
_KR_FAMILY = (
    ("김", "Kim"), ("이", "Lee"), ("박", "Park"), ("최", "Choi"), ("정", "Jung"), ("강", "Kang"),
    ("조", "Cho"), ("윤", "Yoon"),
)
_KR_GIVEN = (
    ("민준", "Min-jun"), ("서연", "Seo-yeon"), ("지훈", "Ji-hoon"), ("수빈", "Su-bin"), ("현우", "Hyun-woo"),
    ("지민", "Ji-min"), ("예은", "Ye-eun"), ("도윤", "Do-yoon"), ("하은", "Ha-eun"),
)
_ZH_FAMILY = (("陈", "Tan"), ("林", "Lim"), ("黄", "Wong"), ("李", "Lee"), ("吴", "Goh"), ("张", "Teo"))
_ZH_GIVEN = (
    ("伟明", "Wei Ming"), ("慧敏", "Hui Min"), ("嘉慧", "Jia Hui"), ("志强", "Zhi Qiang"), ("美玲", "Mei Ling"),
    ("俊杰", "Jun Jie"), ("丽华", "Li Hua"), ("家豪", "Jia Hao"),
)
_VN_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ")
_VN_MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Thanh", "Quốc", "Hoài", "Đức", "Thu")
_VN_GIVEN = (
    "Anh", "Bình", "Châu", "Dũng", "Hà", "Hạnh", "Hùng", "Lan", "Linh", "Phương", "Quân", "Trang", "Tuấn",
    "Vy", "Khoa", "Nhung", "Sơn", "Thảo",
)
_ID_GIVEN = (
    "Budi", "Siti", "Agus", "Dewi", "Rizky", "Putri", "Ahmad", "Nur", "Fajar", "Indah", "Yusuf", "Ayu",
    "Bayu", "Rina", "Dimas", "Wulan", "Hendra", "Fitri", "Eko", "Sari",
)
_ID_FAMILY = (
    "Santoso", "Wijaya", "Pratama", "Saputra", "Hidayat", "Kusuma", "Nugroho", "Lestari", "Siregar",
    "Halim", "Rahmawati", "Setiawan", "Gunawan", "Harahap",
)
_MY_MALAY = (
    "Nur Aisyah binti Ahmad", "Muhammad Hafiz bin Razak", "Siti Nurhaliza binti Omar", "Ahmad Faris bin Ismail",
    "Aina Sofea binti Kamal", "Amirul Hakim bin Yusof", "Farah Nadia binti Aziz", "Hakim bin Rahman",
    "Nurul Izzah binti Salleh", "Syafiq bin Hamzah",
)
_PH_GIVEN = (
    "Maria", "Jose", "Juan", "Angelica", "Mark", "Kristine", "John Paul", "Jasmine", "Carlo", "Patricia",
    "Rommel", "Joy", "Paolo", "Bea",
)
_PH_FAMILY = ("Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Dela Cruz", "Villanueva",
              "Aquino", "Ramos")
_SG_OTHER = (
    "Priya Nair", "Arjun Pillai", "Nur Hidayah", "Marcus Lim", "Jasmine Tan", "Rachel Ong", "Daniel Koh",
    "Siti Zulaikha", "Kavitha Rajan", "Ethan Chua",
)


def _pick(rng: np.random.Generator, options: tuple, n: int) -> list:
    return [options[i] for i in rng.integers(0, len(options), n)]


def _pairs(rng: np.random.Generator, family: tuple, given: tuple, n: int, native_share: float,
           *, native_sep: str, latin: str) -> list[str]:
    """Family + given names, in native script for `native_share` of people, else romanised.
    `latin` is "family_first" or "given_first" (how that market writes romanised names)."""
    fam, giv = _pick(rng, family, n), _pick(rng, given, n)
    native = rng.random(n) < native_share
    out = []
    for f, g, is_native in zip(fam, giv, native, strict=True):
        if is_native:
            out.append(f"{f[0]}{native_sep}{g[0]}")
        else:
            out.append(f"{f[1]} {g[1]}" if latin == "family_first" else f"{g[1]} {f[1]}")
    return out


def names_for_market(rng: np.random.Generator, market: str, n: int) -> list[str]:
    """`n` plausible names of people hired in `market`."""
    if market == "TH":
        # Thai rosters write given name first, in both scripts.
        giv, fam = _pick(rng, _TH_GIVEN, n), _pick(rng, _TH_FAMILY, n)
        native = rng.random(n) < 0.5
        return [f"{g[0]} {f[0]}" if nat else f"{g[1]} {f[1]}" for g, f, nat in zip(giv, fam, native, strict=True)]
    if market == "JP":
        return _pairs(rng, _JP_FAMILY, _JP_GIVEN, n, 0.6, native_sep=" ", latin="family_first")
    if market == "KR":
        return _pairs(rng, _KR_FAMILY, _KR_GIVEN, n, 0.6, native_sep="", latin="family_first")
    if market == "VN":
        return [" ".join(parts) for parts in zip(_pick(rng, _VN_FAMILY, n), _pick(rng, _VN_MIDDLE, n),
                                                  _pick(rng, _VN_GIVEN, n), strict=True)]
    if market == "ID":
        # Many Indonesians go by a single name; rosters then repeat nothing.
        single = rng.random(n) < 0.15
        return [g if s else f"{g} {f}" for g, f, s in zip(_pick(rng, _ID_GIVEN, n), _pick(rng, _ID_FAMILY, n),
                                                          single, strict=True)]
    if market == "PH":
        return [f"{g} {f}" for g, f in zip(_pick(rng, _PH_GIVEN, n), _pick(rng, _PH_FAMILY, n), strict=True)]
    if market == "MY":
        chinese = _pairs(rng, _ZH_FAMILY, _ZH_GIVEN, n, 0.3, native_sep="", latin="family_first")
        malay = _pick(rng, _MY_MALAY, n)
        is_chinese = rng.random(n) < 0.35
        return [c if ic else m for c, m, ic in zip(chinese, malay, is_chinese, strict=True)]
    if market == "SG":
        chinese = _pairs(rng, _ZH_FAMILY, _ZH_GIVEN, n, 0.25, native_sep="", latin="family_first")
        other = _pick(rng, _SG_OTHER, n)
        is_chinese = rng.random(n) < 0.6
        return [c if ic else o for c, o, ic in zip(chinese, other, is_chinese, strict=True)]
    raise ValueError(f"no names for market {market!r}")
