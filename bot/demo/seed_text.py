"""The Persian the seed data is made of: places, people, businesses, what citizens write and what
officers answer.

Data, not user interface: these strings stand for what citizens and officers typed, so they are
not in the message catalog. Composers take the caller's `random.Random`, so one seed value gives
the same words every time. Citizens type Persian digits; the services normalise them on input.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.text import to_persian_digits as fa


@dataclass(frozen=True)
class Province:
    code: str
    weight: float  # population, millions (1395 census): Tehran first
    cities: tuple[str, ...]  # the capital first
    centre: tuple[float, float]  # the capital's latitude, longitude


PROVINCES: tuple[Province, ...] = (
    Province(
        "23", 13.27, ("تهران", "ری", "اسلامشهر", "شهریار", "ورامین", "پاکدشت"), (35.69, 51.39)
    ),
    Province("09", 6.43, ("مشهد", "نیشابور", "سبزوار", "تربت حیدریه", "قوچان"), (36.30, 59.61)),
    Province("10", 5.12, ("اصفهان", "کاشان", "نجف‌آباد", "خمینی‌شهر"), (32.65, 51.67)),
    Province("07", 4.85, ("شیراز", "مرودشت", "جهرم", "کازرون", "فسا"), (29.59, 52.58)),
    Province("06", 4.71, ("اهواز", "دزفول", "آبادان", "خرمشهر", "بهبهان"), (31.32, 48.67)),
    Province("03", 3.91, ("تبریز", "مراغه", "مرند", "میانه"), (38.08, 46.29)),
    Province("02", 3.28, ("ساری", "بابل", "آمل", "قائم‌شهر"), (36.56, 53.06)),
    Province("04", 3.27, ("ارومیه", "خوی", "بوکان", "مهاباد"), (37.55, 45.08)),
    Province("08", 3.16, ("کرمان", "سیرجان", "رفسنجان", "جیرفت", "بم"), (30.28, 57.08)),
    Province("11", 2.78, ("زاهدان", "زابل", "ایرانشهر", "چابهار"), (29.50, 60.86)),
    Province("30", 2.71, ("کرج", "فردیس", "نظرآباد", "هشتگرد"), (35.84, 50.94)),
    Province("01", 2.53, ("رشت", "بندر انزلی", "لاهیجان", "لنگرود"), (37.28, 49.58)),
    Province("05", 1.95, ("کرمانشاه", "اسلام‌آباد غرب", "کنگاور"), (34.31, 47.07)),
    Province("27", 1.87, ("گرگان", "گنبد کاووس", "علی‌آباد کتول"), (36.84, 54.44)),
    Province("22", 1.78, ("بندرعباس", "قشم", "میناب", "بندر لنگه"), (27.18, 56.27)),
    Province("15", 1.76, ("خرم‌آباد", "بروجرد", "دورود"), (33.49, 48.36)),
    Province("13", 1.74, ("همدان", "ملایر", "نهاوند"), (34.80, 48.51)),
    Province("12", 1.60, ("سنندج", "سقز", "مریوان"), (35.32, 46.99)),
    Province("00", 1.43, ("اراک", "ساوه", "خمین"), (34.09, 49.69)),
    Province("25", 1.29, ("قم",), (34.64, 50.88)),
    Province("26", 1.27, ("قزوین", "تاکستان", "الوند"), (36.28, 50.00)),
    Province("24", 1.27, ("اردبیل", "پارس‌آباد", "مشگین‌شهر"), (38.25, 48.29)),
    Province("18", 1.16, ("بوشهر", "برازجان", "کنگان"), (28.92, 50.82)),
    Province("21", 1.14, ("یزد", "میبد", "اردکان"), (31.90, 54.36)),
    Province("19", 1.06, ("زنجان", "ابهر", "خرمدره"), (36.67, 48.48)),
    Province("14", 0.95, ("شهرکرد", "بروجن", "فارسان"), (32.33, 50.86)),
    Province("28", 0.86, ("بجنورد", "شیروان", "اسفراین"), (37.47, 57.33)),
    Province("29", 0.77, ("بیرجند", "قائن", "فردوس"), (32.86, 59.23)),
    Province("17", 0.71, ("یاسوج", "دهدشت", "گچساران"), (30.67, 51.59)),
    Province("20", 0.70, ("سمنان", "شاهرود", "دامغان", "گرمسار"), (35.58, 53.40)),
    Province("16", 0.58, ("ایلام", "دهلران", "ایوان"), (33.64, 46.42)),
)
PROVINCE_BY_CODE = {p.code: p for p in PROVINCES}

# -- people ----------------------------------------------------------------------------------------

MEN = (
    *("علی", "محمد", "حسین", "رضا", "مهدی", "امیر", "حمید", "سعید", "مجید", "جواد", "مصطفی"),
    *("احسان", "کاظم", "یوسف", "بهروز", "فرهاد", "داوود", "ابوالفضل", "محسن", "پیمان", "بابک"),
    *("آرش", "سجاد", "میلاد", "ناصر", "اکبر", "هادی", "کوروش"),
)
WOMEN = (
    *("فاطمه", "زهرا", "معصومه", "سمیه", "لیلا", "الهام", "شیوا", "فرشته", "مهسا", "نازنین"),
    *("پریسا", "رویا", "طاهره", "اعظم", "منیژه", "سحر", "آزاده", "هانیه", "کوثر", "بهاره"),
    *("ژیلا", "مینا", "شهلا", "نسرین", "صدیقه", "ریحانه"),
)
SURNAMES = (
    *("احمدی", "محمدی", "حسینی", "رضایی", "موسوی", "کریمی", "جعفری", "صادقی", "رحیمی"),
    *("اکبری", "قاسمی", "عباسی", "مرادی", "حیدری", "ملکی", "یوسفی", "طاهری", "شریفی", "زارعی"),
    *("بهرامی", "سلیمانی", "نجفی", "امیری", "فرهادی", "قربانی", "جمشیدی", "رستمی", "سبحانی"),
    *("بابایی", "فتحی", "توکلی", "هاشمی", "میرزایی", "کرمانی", "شیرازی", "تبریزی", "خراسانی"),
)
MOBILE_PREFIXES = ("0912", "0935", "0919", "0901", "0939", "0917", "0915", "0913", "0921", "0990")


def person(rng: random.Random) -> tuple[str, str]:
    """A first name and a surname."""
    first = rng.choice(MEN if rng.random() < 0.55 else WOMEN)
    return first, rng.choice(SURNAMES)


def mobile(rng: random.Random) -> str:
    """An Iranian mobile number, 09xxxxxxxxx."""
    return rng.choice(MOBILE_PREFIXES) + "".join(str(rng.randint(0, 9)) for _ in range(7))


# -- businesses --------------------------------------------------------------------------------

BRANDS = (
    *("امید", "بهار", "ستاره", "نگین", "مهتاب", "آفتاب", "الماس", "پارسیان", "کوثر", "رضوان"),
    *("سپیده", "گلستان", "ایرانیان", "نوین", "طلایی", "سعادت", "صداقت", "شهرزاد", "آرمان"),
    *("یاس", "باران", "مروارید", "سینا", "ارغوان", "سهند", "دماوند", "البرز", "کیمیا", "نیکان"),
    *("ماهان", "حافظ", "فردوسی", "برادران رضایی", "حاج‌علی", "برادران اکبری", "خانواده"),
)

# Per sector: how a business of it is named («{b}» a brand, «{s}» a surname, «{n}» a number).
SHOP_NAMES: dict[str, tuple[str, ...]] = {
    "food": (
        *("سوپرمارکت {b}", "هایپرمارکت {b}", "نانوایی سنگکی {b}", "نانوایی بربری {b}"),
        *("قصابی {b}", "مرغ و ماهی {b}", "میوه و تره‌بار {b}", "لبنیات {b}", "خواربار {b}"),
        "فروشگاه زنجیره‌ای {b}",
    ),
    "medicine": ("داروخانه دکتر {s}", "داروخانه شبانه‌روزی {b}", "تجهیزات پزشکی {b}"),
    "vehicles": (
        *("نمایندگی ایران‌خودرو کد {n}", "نمایندگی سایپا کد {n}", "لوازم یدکی {b}"),
        *("تعمیرگاه {b}", "لاستیک {b}", "نمایشگاه خودرو {b}"),
    ),
    "appliances": ("لوازم خانگی {b}", "فروشگاه {b} الکتریک", "صوتی و تصویری {b}"),
    "clothing": ("پوشاک {b}", "کفش {b}", "بوتیک {b}", "تولیدی پوشاک {b}"),
    "construction": ("مصالح ساختمانی {b}", "آهن‌آلات {b}", "کاشی و سرامیک {b}", "ابزار {b}"),
    "services": ("رستوران {b}", "چلوکبابی {b}", "کافه {b}", "فست‌فود {b}", "کبابی {b}"),
    "fuel": ("جایگاه سوخت شماره {n}", "جایگاه سی‌ان‌جی {b}", "فروش کپسول گاز {b}"),
    "online": ("فروشگاه اینترنتی {b}", "فروشگاه آنلاین {b} کالا", "صفحه فروش اینستاگرامی {b}"),
    "other": ("لوازم‌التحریر {b}", "کتاب‌فروشی {b}", "اسباب‌بازی {b}", "عینک {b}"),
}

# What a citizen calls the place in a sentence («… از این فروشگاه»): the name's first word when
# it says what the place is, else the sector's word.
NAMED_KINDS = (
    *("نانوایی", "قصابی", "داروخانه", "رستوران", "کافه", "چلوکبابی", "کبابی", "جایگاه"),
    *("سوپرمارکت", "هایپرمارکت", "نمایندگی", "تعمیرگاه", "فست‌فود", "کتاب‌فروشی"),
    *("بوتیک", "نمایشگاه"),
)
SHOP_KIND: dict[str, str] = {
    "food": "فروشگاه",
    "medicine": "فروشگاه",
    "vehicles": "فروشگاه",
    "appliances": "فروشگاه",
    "clothing": "مغازه",
    "construction": "مغازه",
    "services": "مغازه",
    "fuel": "فروشگاه",
    "online": "فروشگاه اینترنتی",
    "other": "مغازه",
}


def kind_of(business: str, sector: str) -> str:
    first = business.split(" ", 1)[0]
    return first if first in NAMED_KINDS else SHOP_KIND[sector]


def business_name(rng: random.Random, sector: str) -> str:
    pattern = rng.choice(SHOP_NAMES[sector])
    return pattern.format(b=rng.choice(BRANDS), s=rng.choice(SURNAMES), n=fa(rng.randint(12, 980)))


STREETS = (
    *("امام خمینی", "انقلاب", "آزادی", "شریعتی", "طالقانی", "فردوسی", "حافظ", "سعدی", "مطهری"),
    *("شهید بهشتی", "جمهوری", "کشاورز", "مدرس", "چمران", "شهید رجایی", "ولیعصر", "پاسداران"),
    *("شهدا", "بسیج", "هفده شهریور", "امام رضا", "جانبازان", "کارگر", "نواب", "معلم"),
)
LANDMARKS = (
    *("بانک ملی", "مسجد جامع", "پارک شهر", "بیمارستان", "اداره پست", "شهرداری منطقه"),
    *("میدان میوه و تره‌بار", "دبیرستان", "ایستگاه آتش‌نشانی", "پمپ بنزین"),
)


def address(rng: random.Random, sector: str, city: str) -> str:
    """A street address as a citizen types it (Persian digits, «،» between the parts)."""
    if sector == "online":
        return rng.choice(
            (
                f"فروش اینترنتی؛ انبار در {city}",
                f"فقط فروش اینترنتی، ارسال از {city}",
                f"صفحه اینستاگرام و پیام‌رسان؛ دفتر در {city}",
            )
        )
    street = f"{rng.choice(('خیابان', 'خیابان', 'بلوار'))} {rng.choice(STREETS)}"
    plate = f"پلاک {fa(rng.randint(1, 420))}"
    detail = rng.choice(
        (
            f"کوچه {fa(rng.randint(2, 48))}",
            f"نبش کوچه {rng.choice([s for s in STREETS if s not in street])}",
            f"روبه‌روی {rng.choice(LANDMARKS)}",
            f"جنب {rng.choice(LANDMARKS)}",
            f"مجتمع تجاری {rng.choice(BRANDS)}، طبقه {fa(rng.randint(1, 4))}، "
            f"واحد {fa(rng.randint(1, 60))}",
            "",
        )
    )
    return "، ".join(part for part in (street, detail, plate) if part)


# -- what was bought ---------------------------------------------------------------------------

# Per sector: (what was bought, as a citizen names it; its fair price in tomans).
PRODUCTS: dict[str, tuple[tuple[str, int], ...]] = {
    "food": (
        *(("روغن مایع ۱/۵ لیتری", 210_000), ("برنج ایرانی ۱۰ کیلویی", 1_900_000)),
        *(("هر کیلو مرغ", 170_000), ("هر کیلو گوشت گوسفندی", 950_000), ("پنیر ۴۰۰ گرمی", 110_000)),
        *(("شیر یک لیتری", 45_000), ("یک شانه تخم‌مرغ", 380_000), ("شکر پنج کیلویی", 350_000)),
        *(("رب گوجه‌فرنگی", 95_000), ("نان سنگک", 12_000), ("چای ۵۰۰ گرمی", 420_000)),
    ),
    "medicine": (
        *(("شیر خشک نوزاد", 260_000), ("قرص استامینوفن", 45_000), ("شربت سرماخوردگی", 85_000)),
        *(("انسولین قلمی", 780_000), ("دستگاه فشارسنج", 2_400_000), ("ماسک سه‌لایه", 90_000)),
    ),
    "vehicles": (
        *(("روغن موتور چهار لیتری", 1_100_000), ("لنت ترمز جلو", 1_300_000)),
        *(("باتری خودرو", 5_800_000), ("لاستیک سایز ۱۴", 4_200_000), ("فیلتر هوا", 350_000)),
    ),
    "appliances": (
        *(("یخچال فریزر", 78_000_000), ("ماشین لباسشویی", 55_000_000), ("جاروبرقی", 14_000_000)),
        *(("تلویزیون ۵۵ اینچ", 48_000_000), ("بخاری گازی", 11_000_000), ("کولر آبی", 23_000_000)),
    ),
    "clothing": (
        *(("کفش ورزشی", 2_800_000), ("مانتو", 2_300_000), ("کاپشن زمستانی", 5_900_000)),
        *(("شلوار جین", 1_900_000), ("لباس فرم مدرسه", 1_100_000)),
    ),
    "construction": (
        *(("هر کیسه سیمان", 190_000), ("هر کیلو میلگرد", 42_000), ("هر کیسه گچ", 115_000)),
        *(("هر متر کاشی", 620_000), ("هر شاخه لوله پلیکا", 380_000)),
    ),
    "services": (
        *(("یک پرس چلوکباب کوبیده", 420_000), ("پیتزای مخلوط", 390_000)),
        *(("یک پرس جوجه‌کباب", 480_000), ("یک پرس چلوکباب برگ", 780_000)),
    ),
    "fuel": (("کپسول گاز ۱۱ کیلویی", 320_000), ("بیست لیتر بنزین", 60_000)),
    "online": (
        *(("گوشی موبایل", 38_000_000), ("هدفون بی‌سیم", 2_600_000), ("کرم ضدآفتاب", 650_000)),
        *(("ساعت هوشمند", 7_500_000), ("پاوربانک", 1_400_000)),
    ),
    "other": (
        *(("کتاب کمک‌درسی", 380_000), ("لوازم‌التحریر مدرسه", 950_000)),
        *(("اسباب‌بازی کودک", 1_600_000), ("عینک آفتابی", 2_200_000)),
    ),
}


# What a shop of a kind sells, when its name says (the first match of its name's start).
PRODUCTS_BY_SHOP: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    ("نانوایی سنگکی", (("نان سنگک", 12_000),)),
    ("نانوایی بربری", (("نان بربری", 10_000),)),
    ("قصابی", (("هر کیلو گوشت گوسفندی", 950_000), ("هر کیلو گوشت گوساله", 850_000))),
    ("مرغ و ماهی", (("هر کیلو مرغ", 170_000), ("هر کیلو ماهی قزل‌آلا", 450_000))),
    (
        "میوه و تره‌بار",
        (("هر کیلو گوجه‌فرنگی", 45_000), ("هر کیلو سیب‌زمینی", 30_000), ("هر کیلو پرتقال", 70_000)),
    ),
    ("لبنیات", (("شیر یک لیتری", 45_000), ("پنیر ۴۰۰ گرمی", 110_000), ("ماست دو کیلویی", 140_000))),
    (
        "داروخانه",
        (("شیر خشک نوزاد", 260_000), ("قرص استامینوفن", 45_000), ("انسولین قلمی", 780_000)),
    ),
    (
        "تجهیزات پزشکی",
        (("دستگاه فشارسنج", 2_400_000), ("ماسک سه‌لایه", 90_000), ("دستگاه تست قند", 3_200_000)),
    ),
    ("نمایندگی", (("روغن موتور چهار لیتری", 1_100_000), ("لنت ترمز جلو", 1_300_000))),
    ("لاستیک", (("لاستیک سایز ۱۴", 4_200_000),)),
    ("کفش", (("کفش ورزشی", 2_800_000), ("کفش مجلسی", 3_400_000))),
    ("رستوران", (("یک پرس چلوکباب کوبیده", 420_000), ("یک پرس جوجه‌کباب", 480_000))),
    ("کافه", (("یک فنجان قهوه", 120_000), ("کیک و قهوه", 220_000))),
    ("چلوکبابی", (("یک پرس چلوکباب کوبیده", 420_000), ("یک پرس چلوکباب برگ", 780_000))),
    ("کبابی", (("یک پرس کباب کوبیده", 380_000), ("یک پرس جوجه‌کباب", 480_000))),
    ("فست‌فود", (("پیتزای مخلوط", 390_000), ("ساندویچ همبرگر", 280_000))),
    ("جایگاه سوخت", (("بیست لیتر بنزین", 60_000),)),
    ("جایگاه سی‌ان‌جی", (("یک بار گاز سی‌ان‌جی", 40_000),)),
    ("فروش کپسول گاز", (("کپسول گاز ۱۱ کیلویی", 320_000),)),
    ("کتاب‌فروشی", (("کتاب کمک‌درسی", 380_000),)),
    ("لوازم‌التحریر", (("لوازم‌التحریر مدرسه", 950_000),)),
    ("اسباب‌بازی", (("اسباب‌بازی کودک", 1_600_000),)),
    ("عینک", (("عینک آفتابی", 2_200_000),)),
)


def products(business: str, sector: str) -> tuple[tuple[str, int], ...]:
    """What the business may have sold: by its kind when its name says, else by its sector."""
    for prefix, found in PRODUCTS_BY_SHOP:
        if business.startswith(prefix):
            return found
    return PRODUCTS[sector]


def spoken_toman(tomans: int) -> str:
    """An amount as a citizen writes it: «۲ میلیون و ۳۰۰ هزار تومان», «۲۸۵ هزار تومان»."""
    millions, rest = divmod(tomans, 1_000_000)
    thousands, units = divmod(rest, 1_000)
    if units or (not millions and not thousands):
        return f"{fa(f'{tomans:,}').replace(',', '٬')} تومان"
    parts = []
    if millions:
        parts.append(f"{fa(millions)} میلیون")
    if thousands:
        parts.append(f"{fa(thousands)} هزار")
    return " و ".join(parts) + " تومان"


def typed_amount(rng: random.Random, tomans: int) -> str:
    """The same amount in one of the forms citizens type at the price step."""
    form = rng.random()
    if form < 0.5:
        return spoken_toman(tomans)
    if form < 0.7:
        return fa(str(tomans))  # bare number: tomans
    if form < 0.85:
        return f"{tomans:,}"
    return f"{fa(f'{tomans * 10:,}').replace(',', '٬')} ریال"


def round_price(tomans: float) -> int:
    """Round as prices are: to 1,000 tomans, 5,000 past 100 thousand, 100,000 past 10 million."""
    step = 100_000 if tomans >= 10_000_000 else 5_000 if tomans >= 100_000 else 1_000
    return max(step, round(tomans / step) * step)


# -- complaints ----------------------------------------------------------------------------------

OPENERS = ("", "", "سلام. ", "با سلام و احترام، ", "سلام وقت بخیر. ", "سلام، ")
WHEN = (
    *("امروز صبح", "امروز عصر", "دیروز", "دیروز غروب", "پریروز", "ظهر امروز"),
    *("چند روز پیش", "هفته گذشته", "دیشب"),
)
CLOSERS = (
    "",
    " لطفاً رسیدگی کنید.",
    " خواهشمندم پیگیری شود.",
    " ممنون می‌شوم رسیدگی کنید.",
    " چند نفر دیگر هم همین مشکل را داشتند.",
    " این اولین بار نیست.",
    " لطفاً بازرس بفرستید.",
    " فاکتور هم ندادند.",
)

# Per violation: templates with prices ({paid}, {fair}) and without. {when}, {product}, {kind},
# {city} are filled in; every template is a whole sentence or two.
PRICED: dict[str, tuple[str, ...]] = {
    "overpricing": (
        "{when} {product} را از این {kind} خریدم. {paid} "
        "از من گرفتند، در حالی که قیمت مصوب {fair} است.",
        "{product} را {paid} حساب کردند، در حالی که نرخ مصوبش {fair} "
        "است. فروشنده گفت قیمت‌ها بالا رفته.",
        "فروشنده برای {product} {paid} گرفت و وقتی اعتراض "
        "کردم گفت اگر نمی‌خواهی نخر. قیمت درست {fair} است.",
        "{when} برای {product} {paid} پرداخت کردم. همین جنس در مغازه‌های اطراف {fair} است.",
    ),
    "no_price_label": (
        "روی {product} قیمت نزده‌اند. پرسیدم، گفت {paid}. در جای دیگر {fair} بود.",
        "هیچ جنسی در این {kind} برچسب قیمت ندارد. "
        "{product} را {paid} دادند؛ قیمت درستش {fair} است.",
    ),
    "no_invoice": (
        "بابت {product} {paid} پرداخت کردم ولی فاکتور ندادند. "
        "گفتند اگر فاکتور بخواهی باید مالیاتش را جدا بدهی.",
        "{when} {product} را {paid} خریدم و کارت کشیدم. فاکتوری "
        "که دادند دست‌نویس است و قیمت را {fair} نوشته‌اند.",
    ),
    "medicine": (
        "{product} را بالاتر از قیمت درج‌شده روی جعبه فروختند: {paid} به جای {fair}.",
        "{when} برای {product} {paid} گرفتند. قیمت روی "
        "جعبه {fair} است و برچسب جدید رویش چسبانده بودند.",
    ),
    "forced_sale": (
        "گفتند {product} را فقط همراه با جنس دیگری می‌فروشند. "
        "در کل {paid} دادم در حالی که خودش {fair} است.",
    ),
    "fraud": (
        "{product} را به عنوان جنس اصل {paid} فروختند ولی تقلبی بود. جنس اصلش حدود {fair} است.",
    ),
}
PLAIN: dict[str, tuple[str, ...]] = {
    "overpricing": (
        "قیمت {product} در این {kind} خیلی بالاتر از نرخ مصوب است و به هر مشتری یک قیمت می‌گویند.",
        "{when} دیدم {product} را تقریباً دو برابر نرخ مصوب می‌فروشند.",
    ),
    "fraud": (  # goods that last; food has its own below
        "{when} {product} خریدم که تقلبی بود؛ بسته‌بندی‌اش "
        "شبیه مارک اصلی است ولی کیفیتش هیچ ربطی ندارد.",
        "فروشنده گفت {product} نو است ولی کارکرده بود. وقتی برگرداندم قبول نکرد.",
    ),
    "short_weight": (
        "{product} را کامل حساب کردند ولی در خانه وزن کردم و حدود پانزده درصد کمتر بود.",
        "ترازوی این {kind} دستکاری شده؛ هر بار خرید می‌کنم "
        "کمتر از مقداری که پول داده‌ام تحویل می‌دهند.",
        "{when} {product} خریدم. وزن روی فاکتور با وزنی که خودم کشیدم خیلی فرق دارد.",
    ),
    "no_price_label": (
        "هیچ‌کدام از اجناس این {kind} برچسب قیمت ندارد و فروشنده برای هر مشتری یک قیمت می‌گوید.",
        "قیمت‌ها را فقط دم صندوق می‌گویند و نرخ‌نامه هم نصب نیست.",
    ),
    "forced_sale": (
        "برای فروش {product} شرط گذاشتند که جنس دیگری هم از خودشان بخرم.",
        "{product} را جدا نمی‌فروشند؛ فقط همراه با جنس‌هایی که روی دستشان مانده عرضه می‌کنند.",
    ),
    "off_network": (
        "{product} سهمیه‌ای را خارج از شبکه توزیع و با قیمت آزاد می‌فروشند.",
        "{when} دیدم {product} دولتی را به جای عرضه به مردم بار وانت کردند و به جای دیگری بردند.",
        "این {kind} {product} یارانه‌ای را آزاد می‌فروشد و به مردم می‌گوید سهمیه تمام شده.",
    ),
    "withholding": (
        "{product} در انبار این {kind} هست ولی به مشتری "
        "می‌گویند نداریم و به آشناها گران‌تر می‌فروشند.",
        "چند روز است می‌گویند {product} نداریم، ولی خودم دیدم که در انبار دارند.",
        "از فروختن {product} خودداری می‌کنند تا قیمت بالا برود.",
    ),
    "health_rules": (
        "این {kind} بهداشت را رعایت نمی‌کند؛ کارکنان بدون دستکش و کلاه کار می‌کنند و محیط کثیف است.",
        "{when} {product} خریدم که بو می‌داد و معلوم بود مانده است.",
        "در این {kind} سوسک دیدم و همه‌جا کثیف بود.",
    ),
    "hoarding": (
        "مقدار زیادی {product} را در انباری پشت این {kind} نگه داشته‌اند و به بازار عرضه نمی‌کنند.",
        "{when} دیدم چند کامیون {product} در یک سوله در {city} خالی کردند. به نظرم احتکار است.",
    ),
    "no_invoice": (
        "برای {product} فاکتور رسمی صادر نمی‌کنند و گارانتی را هم قبول ندارند.",
        "فاکتوری که دادند دست‌نویس است و مبلغش با چیزی که از کارتم کم شده فرق دارد.",
    ),
    "smuggling": (
        "{product} خارجی بدون برچسب اصالت و شناسه کالا می‌فروشند؛ به نظر قاچاق است.",
        "در این {kind} {product} بدون کد رهگیری و با بسته‌بندی خارجی فروخته می‌شود.",
    ),
    "medicine": (
        "این {kind} {product} را فقط به شرط خرید لوازم آرایشی می‌دهد.",
        "{product} را بدون نسخه و خارج از شبکه داروخانه‌ها می‌فروشند.",
        "{when} گفتند {product} نداریم ولی به فرد دیگری با قیمت آزاد فروختند.",
    ),
    "other": (
        "برای {product} پیش‌پرداخت گرفتند و بعد از دو هفته "
        "هنوز تحویل نداده‌اند و جواب تلفن را هم نمی‌دهند.",
        "رفتار فروشنده توهین‌آمیز بود و حاضر به پس گرفتن {product} معیوب نشد.",
    ),
}


# Where a kind of place, a fresh food or a sector needs its own words for a violation (a fuel
# pump is not weighed, a restaurant has a menu rather than price labels, bread has no expiry
# date and a cooler none either): keyed by the kind ("eatery" for every kind in EATERIES), then
# "fresh" (FRESH), then the sector, in that order.
EATERIES = frozenset(("رستوران", "چلوکبابی", "کافه", "فست‌فود", "کبابی"))
FRESH = ("هر کیلو", "نان ")  # of food: what goes stale rather than past a printed date
PLAIN_BY_KIND: dict[tuple[str, str], tuple[str, ...]] = {
    ("fraud", "fresh"): (
        "{when} {product} خریدم؛ فروشنده گفت تازه است ولی مانده بود.",
        "{product} مانده را به اسم تازه به مشتری می‌فروشند.",
    ),
    ("fraud", "food"): (
        "{product} را با تاریخ انقضای دستکاری‌شده می‌فروشند. زیر برچسب جدید، تاریخ قبلی پیداست.",
        "{when} {product} خریدم که تقلبی بود؛ بسته‌بندی‌اش "
        "شبیه مارک اصلی است ولی کیفیتش هیچ ربطی ندارد.",
    ),
    ("short_weight", "جایگاه"): (
        "پمپ این جایگاه بیشتر از مقداری که در باک می‌ریزد نشان می‌دهد؛ {when} دوباره امتحان کردم.",
        "{when} {product} زدم ولی مقداری که پمپ نشان داد در باک نرفت. به نظرم پمپ دستکاری شده است.",
    ),
    ("no_price_label", "eatery"): (
        "منوی این {kind} قیمت ندارد و موقع حساب هر بار یک مبلغ می‌گویند.",
        "نرخ‌نامه مصوب در این {kind} نصب نیست و قیمت غذا را فقط موقع حساب می‌گویند.",
    ),
    ("no_price_label", "نانوایی"): (
        "نرخ‌نامه نان در این {kind} نصب نیست و هر بار یک قیمت می‌گیرند.",
    ),
    ("other", "eatery"): (
        "{product} را سفارش دادم و پولش را گرفتند، ولی بعد از دو ساعت هنوز نیاورده‌اند.",
        "رفتار کارکنان این {kind} توهین‌آمیز بود و وقتی به غذا اعتراض کردم جوابم را ندادند.",
    ),
}
PRICED_BY_KIND: dict[tuple[str, str], tuple[str, ...]] = {
    ("no_price_label", "eatery"): (
        "منوی این {kind} قیمت ندارد. برای {product} {paid} حساب کردند؛ نرخ مصوبش {fair} است.",
    ),
    ("no_price_label", "نانوایی"): (
        "نرخ‌نامه نان در این {kind} نصب نیست. {product} را {paid} حساب کردند؛ نرخ مصوبش {fair} است.",
    ),
}

# A price said per measure: «هر کیلو مرغ» is priced «کیلویی …» and bought as «مرغ».
PER_MEASURE = {"هر کیلو": "کیلویی", "هر کیسه": "کیسه‌ای", "هر متر": "متری", "هر شاخه": "شاخه‌ای"}
# An amount in a product's name, dropped where the thing itself is meant («بنزین سهمیه‌ای»).
AMOUNTS = ("بیست لیتر", "یک بار", "یک پرس", "یک شانه", "یک فنجان")
# Sentences that make no sense with a price per measure («در کل کیلویی … دادم»).
WHOLE_PRICE_ONLY = frozenset(("forced_sale", "fraud"))


def measured(product: str) -> tuple[str, str, str]:
    """(the thing itself, the product as its price is told, the word before its prices)."""
    for measure, per in PER_MEASURE.items():
        if product.startswith(measure + " "):
            thing = product[len(measure) + 1 :]
            return thing, thing, per + " "
    for amount in AMOUNTS:
        if product.startswith(amount + " "):
            return product[len(amount) + 1 :], product, ""
    return product, product, ""


def description(
    rng: random.Random,
    violation: str,
    *,
    sector: str,
    business: str,
    product: str,
    city: str,
    paid: int | None,
    fair: int | None,
) -> str:
    """What the citizen writes about what happened, in one to three sentences."""
    thing, priced_as, per = measured(product)
    kind = kind_of(business, sector)
    fresh = sector == "food" and product.startswith(FRESH)
    keys = [(violation, "eatery" if kind in EATERIES else kind)]
    keys += [(violation, "fresh")] if fresh else []
    keys += [(violation, sector)]

    def words_for(table: dict[tuple[str, str], tuple[str, ...]]) -> tuple[str, ...] | None:
        return next((table[k] for k in keys if k in table), None)

    fill = {"when": rng.choice(WHEN), "product": thing, "kind": kind, "city": city}
    plain = words_for(PLAIN_BY_KIND) or PLAIN[violation]
    priced = words_for(PRICED_BY_KIND) or PRICED.get(violation)
    # A price per measure does not fit every sentence; a stale loaf is not sold «as genuine».
    if (per and violation in WHOLE_PRICE_ONLY) or (fresh and (violation, "fresh") in PLAIN_BY_KIND):
        priced = None
    if paid is not None and fair is not None and priced:
        fill |= {"product": priced_as, "paid": per + spoken_toman(paid)}
        fill["fair"] = per + spoken_toman(fair)
        core = rng.choice(priced)
    else:
        core = rng.choice(plain)
    # A closing line about the invoice only after a purchase that did not speak of one.
    paid_for = "{paid}" in core and "فاکتور" not in core
    closers = [c for c in CLOSERS if "فاکتور" not in c or paid_for]
    return rng.choice(OPENERS) + core.format(**fill) + rng.choice(closers)


# -- the desk's words, and the citizen's answers -----------------------------------------------

# A question an officer asks, with answers a citizen may give to it.
QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "لطفاً تصویر فاکتور یا رسید کارتخوان را بفرستید.",
        (
            "فاکتور ندادند ولی رسید کارتخوان را دارم؛ مبلغ و ساعت رویش هست.",
            "رسید را گم کرده‌ام ولی پیامک بانک را دارم.",
        ),
    ),
    (
        "نشانی دقیق‌تر واحد صنفی را بفرمایید؛ پلاک یا نشانه‌ای نزدیک آن کافی است.",
        ("روبه‌روی بانک ملی است، کنار داروخانه. تابلوی سبز دارد.", "سر کوچه سوم، بعد از نانوایی."),
    ),
    (
        "تاریخ و ساعت تقریبی خرید را بفرمایید.",
        ("پنجشنبه حدود ساعت ۶ عصر بود.", "دیروز ساعت ۱۱ صبح."),
    ),
    (
        "آیا فروشنده برچسب قیمت یا نرخ‌نامه را نشان داد؟",
        ("نه، هیچ برچسبی نبود و وقتی پرسیدم جواب درستی ندادند.", "نرخ‌نامه بود ولی قدیمی بود."),
    ),
    (
        "اگر از کالا یا محل عکسی دارید، لطفاً بفرستید.",
        ("عکس ندارم ولی دو نفر دیگر هم شاهد بودند.", "عکس ندارم، ولی بسته‌اش را نگه داشته‌ام."),
    ),
)

NOTES = (
    "با واحد صنفی تماس گرفته شد؛ قرار بازدید برای فردا گذاشته شد.",
    "سابقه شکایت مشابه از همین واحد در ماه گذشته وجود دارد.",
    "با اتحادیه صنف هماهنگ شد.",
    "بازرس اعزام شد.",
    "منتظر گزارش بازرس هستیم.",
    "مدارک شاکی کافی است؛ آماده ارسال به شعبه.",
)

# What the desk answers when it resolves a case: by outcome, in words that fit the complaint
# (a refund of the difference answers a price, not a hoard; the cyber police an online shop).
PRICE_VIOLATIONS = frozenset(
    ("overpricing", "no_price_label", "no_invoice", "forced_sale", "medicine")
)
EXPLANATIONS: dict[str, tuple[str, ...]] = {
    "branch": (
        "گزارش بازرسی تخلف را تأیید کرد و پرونده برای صدور رأی به شعبه تعزیرات حکومتی فرستاده شد.",
        "پرونده با مستندات شما و گزارش بازرس به شعبه بدوی تعزیرات ارسال شد.",
        "تخلف محرز شد و پرونده برای رسیدگی به شعبه ارسال شد.",
    ),
    "no_violation": (
        "بازرس از واحد صنفی بازدید کرد و تخلفی دیده نشد.",
        "در بازدید بازرس، موردی که در شکایت آمده بود دیده نشد.",
    ),
    "not_jurisdiction": (
        "رسیدگی به این موضوع در صلاحیت تعزیرات حکومتی نیست؛ لطفاً به اتحادیه صنف مربوط مراجعه کنید.",
        "این شکایت دعوای حقوقی است و باید در شورای حل اختلاف پیگیری شود.",
    ),
    "resolved": (
        "بازرس از واحد صنفی بازدید کرد و با تذکر کتبی، مشکل برطرف شد.",
        "واحد صنفی تذکر کتبی گرفت و تعهد داد تکرار نشود.",
    ),
}
EXPLANATIONS_FOR_PRICES: dict[str, tuple[str, ...]] = {
    "no_violation": (
        "بازرس از واحد صنفی بازدید کرد؛ قیمت‌ها مطابق نرخ مصوب بود و تخلفی دیده نشد.",
        "فاکتورهای خرید واحد صنفی بررسی شد و قیمت فروش در حد مجاز بود.",
        "در بازدید، کالا با برچسب قیمت درست عرضه می‌شد و تخلفی ثبت نشد.",
    ),
    "resolved": (
        "با تذکر بازرس، فروشنده مابه‌التفاوت را به شما بازگرداند و برچسب قیمت نصب شد.",
        "واحد صنفی تذکر کتبی گرفت و قیمت‌ها اصلاح شد.",
        "مبلغ اضافه به حساب شما بازگردانده شد.",
    ),
}
EXPLANATIONS_FOR_GOODS: dict[str, tuple[str, ...]] = {  # a fake, short weight, a faulty thing
    "resolved": (
        "کالا تعویض شد و فروشنده تعهد داد تکرار نشود.",
        "مبلغی که پرداخت کرده بودید به شما بازگردانده شد.",
        "واحد صنفی تذکر کتبی گرفت و تعهد داد تکرار نشود.",
    ),
}
EXPLANATIONS_ONLINE: dict[str, tuple[str, ...]] = {
    "not_jurisdiction": (
        "موضوع شکایت به پلیس فتا مربوط است؛ لطفاً شکایت خود را در سامانه پلیس فتا ثبت کنید.",
        "این شکایت دعوای حقوقی است و باید در شورای حل اختلاف پیگیری شود.",
    ),
}


def explanation(rng: random.Random, outcome: str, violation: str, sector: str) -> str:
    """The officer's words on resolving a case with this outcome."""
    if sector == "online" and outcome in EXPLANATIONS_ONLINE:
        found = EXPLANATIONS_ONLINE[outcome]
    elif violation in PRICE_VIOLATIONS and outcome in EXPLANATIONS_FOR_PRICES:
        found = EXPLANATIONS_FOR_PRICES[outcome]
    elif violation in ("fraud", "short_weight", "other") and outcome in EXPLANATIONS_FOR_GOODS:
        found = EXPLANATIONS_FOR_GOODS[outcome]
    else:
        found = EXPLANATIONS[outcome]
    return found[rng.randrange(len(found))]


REJECT_REASONS = (
    "شکایت اطلاعات کافی ندارد؛ نام و نشانی واحد صنفی روشن نیست.",
    "متن شکایت شامل توهین است و قابل رسیدگی نیست.",
    "این شکایت آزمایشی و بدون موضوع مشخص بود.",
    "موضوع شکایت خرید از یک شخص است، نه از واحد صنفی.",
)
REOPEN_REASONS = (
    "فروشنده هنوز همان قیمت را می‌گیرد.",
    "مبلغ اضافه هنوز به من برنگشته است.",
    "بعد از تذکر هم برچسب قیمت نصب نشده.",
    "پاسخ داده‌شده با آنچه دیدم فرق دارد؛ لطفاً دوباره بررسی کنید.",
)
RETURN_REASONS = (
    "موضوع در حوزه کاری این واحد نیست؛ لطفاً به واحد مربوط ارجاع شود.",
    "بازرسی میدانی لازم نیست؛ میز ۱۳۵ خودش رسیدگی کند.",
)
COMMENTS: dict[int, tuple[str, ...]] = {
    5: ("ممنون از پیگیری سریع.", "خیلی خوب و محترمانه رسیدگی شد.", "دستتان درد نکند، مشکل حل شد."),
    4: ("رسیدگی خوب بود ولی کمی طول کشید.", "ممنون، فقط کاش زودتر خبر می‌دادید."),
    3: ("پاسخ دادند ولی کامل قانع نشدم.", "بد نبود."),
    2: ("نتیجه‌ای نگرفتم.", "خیلی طول کشید."),
    1: ("فروشنده هنوز همان کار را می‌کند.", "هیچ فایده‌ای نداشت."),
}
