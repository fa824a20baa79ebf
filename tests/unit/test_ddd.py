"""The shipped DDD table against the WHO reference, and the dictionary → DDD conversions."""
import math
from pathlib import Path

import qcindicators

import pandas as pd
import pytest

from qcindicators.domain.ddd import resolve_dictionary
from qcindicators.domain.reference import ddd_edition, ddd_table, in_scope

PREFIXES = ("J01", "J02", "J04", "J05", "P01AB", "A07AA")


def test_ddd_table_matches_who_reference(shared_dir):
    who = pd.read_csv(shared_dir / "reference" / "who_atc_ddd_antimicrobials_2026-04-25.csv", dtype=str, keep_default_na=False)
    who = who[who["atc_code"].str.startswith(PREFIXES) & (who["ddd"] != "")]
    ours = ddd_table()
    key = ["atc_code", "adm_r", "note"]
    merged = who.merge(ours.astype({"ddd": str}), on=key, how="outer", suffixes=("_who", "_ours"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert (merged["ddd_who"].astype(float) == merged["ddd_ours"].astype(float)).all()
    assert (merged["uom_who"] == merged["uom_ours"]).all()
    assert ddd_edition() == "WHO ATC/DDD Index 2026-04-25"
    scope = ours.drop_duplicates("atc_code").set_index("atc_code")
    assert scope.loc["J01DD04", "cn_scope"] == "yes" and scope.loc["J04AC01", "cn_scope"] == "no"
    assert scope.loc["A07AA09", "cn_scope"] == "optional" and scope.loc["J01DD04", "class_code"] == "J01DD"
    assert scope.loc["J01DD04", "class_name"] == "Third-generation cephalosporins"
    assert all(in_scope(c) == (s == "yes") for c, s in scope["cn_scope"].items())


def test_chinese_names_point_at_the_substance_they_claim(shared_dir):
    """Each Chinese name states the WHO substance it means; a wrong ATC code shows up as a mismatch."""
    who = pd.read_csv(shared_dir / "reference" / "who_atc_ddd_antimicrobials_2026-04-25.csv", dtype=str, keep_default_na=False)
    names = pd.read_csv(Path(qcindicators.__file__).parent / "data" / "antimicrobial_names_zh.csv", dtype=str, keep_default_na=False)
    official = who.drop_duplicates("atc_code").set_index("atc_code")["atc_name"]
    assert (names["who_name"] == names["atc_code"].map(official)).all(), names[names["who_name"] != names["atc_code"].map(official)]
    # every substance with a WHO DDD in the shipped table has a Chinese name; each name says whether it is the
    # name in use in China (cn) or a transliteration for a substance not marketed there (translit)
    ours = ddd_table()
    with_ddd = set(ours.loc[ours["atc_code"].str.len() == 7, "atc_code"])
    assert with_ddd <= set(names["atc_code"]), sorted(with_ddd - set(names["atc_code"]))
    assert set(names["name_status"]) == {"cn", "translit"}


@pytest.mark.parametrize("atc,scope", [("J01DD04", True), ("J02AC01", True), ("P01AB01", True), ("J04AC01", False),
                                       ("J05AH02", False), ("A07AA09", False), ("P01BA01", False), (None, False)])
def test_chinese_scope(atc, scope):
    assert in_scope(atc) is scope


CASES = [
    # (dictionary row, expected ATC, expected DDDs per dispensing unit)
    ({"generic_name": "注射用头孢曲松钠", "route": "parenteral", "spec": "1g/支"}, "J01DD04", 0.5),
    ({"generic_name": "盐酸左氧氟沙星片", "route": "oral", "spec": "0.5g*4片"}, "J01MA12", 1.0),
    ({"generic_name": "甲硝唑片", "route": "oral", "spec": "0.2g*21片"}, "P01AB01", 0.1),
    ({"generic_name": "甲硝唑氯化钠注射液", "route": "parenteral", "spec": "100ml:0.5g"}, "J01XD01", 0.5 / 1.5),
    ({"generic_name": "注射用盐酸万古霉素", "route": "parenteral", "spec": "0.5g"}, "J01XA01", 0.25),
    ({"generic_name": "注射用哌拉西林钠他唑巴坦钠", "route": "parenteral", "spec": "4.5g(4.0g:0.5g)"}, "J01CR05", 4.0 / 14),
    ({"generic_name": "注射用哌拉西林钠他唑巴坦钠", "route": "parenteral", "spec": "2.25g(8:1)"}, "J01CR05", 2.0 / 14),
    ({"generic_name": "阿莫西林克拉维酸钾片", "route": "oral", "spec": "1.25g(4:1)"}, "J01CR02", 1.0 / 1.5),
    ({"generic_name": "注射用青霉素钠", "route": "parenteral", "spec": "80万U"}, "J01CE01", 0.48 / 3.6),
    ({"generic_name": "注射用青霉素钠", "route": "parenteral", "spec": "160万单位/瓶"}, "J01CE01", 0.96 / 3.6),
    ({"generic_name": "氟康唑胶囊", "route": "oral", "strength": 150, "strength_unit": "mg"}, "J02AC01", 0.75),
    ({"generic_name": "多粘菌素B", "route": "parenteral", "spec": "50万U"}, "J01XB02", 0.05 / 0.15),
    ({"generic_name": "红霉素肠溶片", "route": "oral", "spec": "0.25g"}, "J01FA01", 0.25 / 1.0),
    ({"generic_name": "琥乙红霉素片", "route": "oral", "spec": "0.25g"}, "J01FA01", 0.25 / 2.0),
    # 复方 is part of the name: co-trimoxazole is not sulfamethoxazole (J01EC01, 2 g O)
    ({"generic_name": "磺胺甲噁唑片", "route": "oral", "spec": "0.5g"}, "J01EC01", 0.25),
    # a combination with its own code is not its first ingredient: J01DD52 is 6 g, ceftazidime alone 4 g
    ({"generic_name": "注射用头孢他啶阿维巴坦钠", "route": "parenteral", "spec": "2.5g(2.0g:0.5g)"}, "J01DD52", 2.0 / 6),
    ({"generic_name": "注射用头孢曲松钠他唑巴坦钠", "route": "parenteral", "spec": "1.2g(1.0g:0.2g)"}, "J01DD63", 0.5),
    # oral neomycin is the intestinal A07AA01 (5 g); J01GB05 is parenteral only
    ({"generic_name": "硫酸新霉素片", "route": "oral", "spec": "0.25g*100片"}, "A07AA01", 0.05),
    ({"generic_name": "甲苯磺酸奥马环素片", "route": "oral", "spec": "0.15g"}, "J01AA15", 0.5),
    ({"generic_name": "醋酸麦迪霉素片", "route": "oral", "spec": "0.2g"}, "J01FA11", 0.2 / 1.2),
]


@pytest.mark.parametrize("row,atc,per_unit", CASES)
def test_dictionary_row_to_ddd(row, atc, per_unit):
    r = resolve_dictionary(pd.DataFrame([{"drug_code": "X", **row}])).iloc[0]
    assert r["atc_code"] == atc and r["problem"] is None
    assert r["ddd_per_unit"] == pytest.approx(per_unit)


@pytest.mark.parametrize("row,problem", [
    ({"generic_name": "注射用哌拉西林钠他唑巴坦钠", "route": "parenteral", "spec": "4.5g"}, "combination_split_unknown"),
    ({"generic_name": "硫酸依替米星氯化钠注射液", "route": "parenteral", "spec": "100ml:0.1g", "antibacterial_class": "限制使用级"}, "no_atc"),
    ({"generic_name": "注射用盐酸万古霉素", "spec": "0.5g"}, "ambiguous_atc"),
    ({"generic_name": "注射用头孢曲松钠", "route": "parenteral", "spec": "一支"}, "unparseable_spec"),
    ({"generic_name": "注射用头孢曲松钠", "route": "parenteral", "strength": 1, "strength_unit": "万U"}, "unit_unconvertible"),
    ({"generic_name": "阿莫西林胶囊", "atc_code": "J01CA04", "spec": "0.25g*24粒"}, "route_needed"),
    # a combination WHO lists without a DDD: said so, not counted as cefotaxime
    ({"generic_name": "注射用头孢噻肟钠舒巴坦钠", "route": "parenteral", "spec": "1.5g(1.0g:0.5g)"}, "no_ddd"),
    # a known substance plus a partner the table does not know: not claimed by the shorter name
    ({"generic_name": "头孢美唑钠舒巴坦钠", "route": "parenteral", "spec": "1g", "antibacterial_class": "限制使用级"}, "no_atc"),
    ({"generic_name": "磺胺嘧啶银乳膏", "route": "topical", "spec": "1%:40g", "antibacterial_class": "非限制使用级"}, "no_atc"),
])
def test_unresolvable_rows_say_why(row, problem):
    r = resolve_dictionary(pd.DataFrame([{"drug_code": "X", **row}])).iloc[0]
    assert r["problem"] == problem and math.isnan(r["ddd_per_unit"]) and r["problem_zh"]


def test_hospital_ddd_overrides_reference():
    r = resolve_dictionary(pd.DataFrame([{"drug_code": "X", "generic_name": "硫酸依替米星氯化钠注射液", "route": "parenteral",
                                          "spec": "100ml:0.1g", "antibacterial_class": "限制使用级", "ddd": 0.3, "ddd_unit": "g"}])).iloc[0]
    assert r["is_antibacterial"] and r["ddd_source"] == "dictionary" and r["ddd_per_unit"] == pytest.approx(1 / 3)


# An antibacterial the name table cannot map is reported without a DDD (reference README: "a drug line without
# one is reported, never silently counted as zero") — with or without the hospital's 分级 column.
@pytest.mark.parametrize("name", ["注射用硫酸依替米星", "注射用头孢硫脒", "吗啉硝唑氯化钠注射液", "注射用美洛西林钠舒巴坦钠",
                                  "注射用盐酸去甲万古霉素", "左奥硝唑氯化钠注射液"])
def test_an_antibacterial_without_a_who_code_is_an_antibacterial_without_a_ddd(name):
    r = resolve_dictionary(pd.DataFrame([{"drug_code": "X", "generic_name": name, "route": "parenteral",
                                          "spec": "0.5g"}])).iloc[0]
    assert r["is_antibacterial"] and r["problem"] == "no_atc" and math.isnan(r["ddd_per_unit"])


@pytest.mark.parametrize("row,atc,per_unit", [
    # 左旋氧氟沙星 is levofloxacin (0.5 g), not ofloxacin (0.4 g): 0.1 g a tablet → 0.2 DDD
    ({"generic_name": "盐酸左旋氧氟沙星片", "route": "oral", "spec": "0.1g"}, "J01MA12", 0.2),
    # an ATC typed in full-width characters
    ({"generic_name": "头孢曲松", "atc_code": "Ｊ０１ＤＤ０４", "route": "parenteral", "spec": "1g"}, "J01DD04", 0.5),
    # nested packs dispensed by the box: 0.25 g × 12 capsules × 2 boards = 6 g → 4 DDD of amoxicillin (1.5 g)
    ({"generic_name": "阿莫西林胶囊", "route": "oral", "spec": "0.25g*12粒*2板", "dispensing_unit": "盒"}, "J01CA04", 4.0),
    ({"generic_name": "阿莫西林胶囊", "route": "oral", "spec": "0.25g*12粒*2板", "dispensing_unit": "板"}, "J01CA04", 2.0),
    ({"generic_name": "阿莫西林胶囊", "route": "oral", "spec": "0.25g 6粒/板*2板/盒", "dispensing_unit": "盒"}, "J01CA04", 2.0),
])
def test_names_units_and_packs_that_used_to_give_another_number(row, atc, per_unit):
    r = resolve_dictionary(pd.DataFrame([{"drug_code": "X", **row}])).iloc[0]
    assert r["atc_code"] == atc and r["problem"] is None
    assert r["ddd_per_unit"] == pytest.approx(per_unit)


def test_a_topical_silver_salt_is_not_taken_for_its_sulfonamide():
    r = resolve_dictionary(pd.DataFrame([{"drug_code": "X", "generic_name": "磺胺嘧啶银乳膏", "route": "topical",
                                          "spec": "1%:40g"}])).iloc[0]
    assert not r["is_antibacterial"]
