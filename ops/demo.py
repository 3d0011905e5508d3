"""Demo data: Fuzhou's 13 districts, two functional zones, 428 synthetic pilot units, rounds, users.

Credit codes are generated with valid check characters and do not belong to real companies.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import accounts
from shared.catalogue import DEFAULT_VERSION
from shared.catalogue import store as catalogues
from shared.credit_code import ALPHABET, check_character
from shared.models import District, PilotUnit, Round, User

DISTRICTS = [
    ("350102", "鼓楼区", "Gulou District"),
    ("350103", "台江区", "Taijiang District"),
    ("350104", "仓山区", "Cangshan District"),
    ("350105", "马尾区", "Mawei District"),
    ("350111", "晋安区", "Jin'an District"),
    ("350112", "长乐区", "Changle District"),
    ("350121", "闽侯县", "Minhou County"),
    ("350122", "连江县", "Lianjiang County"),
    ("350123", "罗源县", "Luoyuan County"),
    ("350124", "闽清县", "Minqing County"),
    ("350125", "永泰县", "Yongtai County"),
    ("350128", "平潭县", "Pingtan County"),
    ("350181", "福清市", "Fuqing City"),
]
ZONES = [
    ("fz-hitech", "福州高新区", "Fuzhou High-tech Zone"),
    ("fz-etdz", "福州经济技术开发区", "Fuzhou Economic and Technological Development Zone"),
]
INDUSTRIES = [
    "装备制造",
    "电子信息",
    "纺织化纤",
    "冶金建材",
    "食品加工",
    "轻工",
    "医药",
    "交通运输",
    "能源电力",
    "建筑",
    "数字经济",
    "公共服务",
]
WORDS = [
    "闽江",
    "榕城",
    "海峡",
    "东南",
    "鼓山",
    "三坊",
    "瑞丰",
    "恒信",
    "华闽",
    "新榕",
    "海润",
    "安泰",
    "宏达",
    "启航",
    "福兴",
    "远航",
    "联创",
    "嘉和",
    "金山",
    "永盛",
]
KINDS = ["机械", "电子", "纺织", "建材", "食品", "科技", "医药", "物流", "电力", "建设", "软件", "精工"]
UNIT_COUNT = 428
DEMO_PASSWORD = "pilotwatch-demo"


def credit_code(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + check_character(body)


def synthetic_units(count: int = UNIT_COUNT, seed: int = 2023) -> list[dict[str, Any]]:
    """Deterministic synthetic units spread over the districts and zones."""
    rng = random.Random(seed)
    areas = [d[0] for d in DISTRICTS] + [z[0] for z in ZONES]
    weights = [60, 40, 45, 35, 40, 30, 35, 20, 12, 10, 10, 12, 45, 24, 10]
    units, codes = [], set()
    for i in range(count):
        area = rng.choices(areas, weights)[0]
        region = area if area.isdigit() else "350100"
        code = credit_code(rng, region)
        while code in codes:
            code = credit_code(rng, region)
        codes.add(code)
        kind = rng.choice(KINDS)
        name = (
            f"福州{rng.choice(WORDS)}{kind}有限公司"
            if i % 9
            else f"福州市{rng.choice(WORDS)}{kind}职业技术学校"
        )
        industry = rng.choice(INDUSTRIES)
        units.append(
            {
                "credit_code": code,
                "name": f"{name[:-4]}{i + 1:03d}{name[-4:]}",
                "district": area,
                "industry": industry if i % 9 else "公共服务",
                # the vocational schools are institutions (事业单位); the companies are enterprises
                "kind": "enterprise" if i % 9 else "institution",
            }
        )
    return units


def load(session: Session, today: date | None = None) -> list[tuple[str, str, str]]:
    """Load the demo data if it is not there yet; return the demo users (email, role, password)."""
    today = today or date.today()
    catalogues.ensure_default(session)
    for code, zh, en in DISTRICTS:
        if session.get(District, code) is None:
            session.add(District(code=code, official_code=code, name_zh=zh, name_en=en, kind="district"))
    for code, zh, en in ZONES:
        if session.get(District, code) is None:
            session.add(District(code=code, official_code=None, name_zh=zh, name_en=en, kind="zone"))
    session.flush()
    known = set(session.scalars(select(PilotUnit.credit_code)))
    for unit in synthetic_units():
        if unit["credit_code"] not in known:
            session.add(
                PilotUnit(
                    credit_code=unit["credit_code"],
                    name=unit["name"],
                    district_code=unit["district"],
                    industry=unit["industry"],
                    kind=unit["kind"],
                )
            )
    half = 1 if today.month <= 6 else 2
    current = f"{today.year}H{half}"
    due = date(today.year, 7, 15) if half == 1 else date(today.year + 1, 1, 15)
    previous = f"{today.year}H1" if half == 2 else f"{today.year - 1}H2"
    previous_due = date(today.year, 1, 15) if half == 2 else date(today.year - 1, 7, 15)
    if session.get(Round, previous) is None:
        session.add(
            Round(
                code=previous,
                catalogue_version=DEFAULT_VERSION,
                due_date=previous_due,
                grace_days=5,
                status="closed",
            )
        )
    if session.get(Round, current) is None:
        session.add(
            Round(code=current, catalogue_version=DEFAULT_VERSION, due_date=due, grace_days=5, status="open")
        )
    users = [
        ("admin@pilotwatch.example", "admin", None),
        ("supervisor@pilotwatch.example", "supervisor", None),
        ("gulou@pilotwatch.example", "district", "350102"),
        ("taijiang@pilotwatch.example", "district", "350103"),
    ]
    made = []
    for email, role, district in users:
        if session.scalar(select(User.id).where(User.email == email)) is None:
            accounts.create_user(session, email, role, district, DEMO_PASSWORD)
        made.append((email, role, DEMO_PASSWORD))
    session.flush()
    return made
