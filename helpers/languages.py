"""Language packs for the keyword policy: the words customers use to opt out, opt back in and ask
for help, per language (ISO 639-1 code).

Sources: 8x8's notes on keywords beyond English (../shared/8x8-api/NOTES.md: ARRET, BAJA, STOPP,
BERHENTI, 退订, 配信停止, 수신거부 ...), AWS's default keyword lists, and carriers' HELP rules; for
Turkish, Turkey's İleti Yönetim Sistemi (RET); for Vietnamese, Decree 91/2020/ND-CP (TC). Where
no carrier or regulator publishes reply words (Thai, Filipino, Hindi, Italian, Russian, Polish,
Arabic), the words are those customers commonly write, kept to whole messages and plain requests.

How each field is read (see helpers/policy.py for the matching itself):

- ``opt_out_words``: an opt-out when the word is the whole message, alone or with the pack's
  courtesy words ("baja por favor", "stop bitte"), or repeated ("stop stop"). Words of four
  letters or more also match their bounded typos (one swap of neighbouring letters, one doubled
  letter; one missing letter from eight letters up), except where a typo is an everyday word.
- ``ordinary_words``: opt-out words that are also everyday words of the language ("alto" is
  "tall", "pare" and "para" are "stop" but also "for"/"equal"): whole message only, and no typo
  variants, so their look-alikes ("alta", "bajo") stay ordinary. Strict reading of the issue's
  "counts only as the whole message": courtesy words around them are still allowed, since
  "Baja, por favor" is the commonest way to write an opt-out in Spanish.
- ``opt_out_phrases``: regular-expression fragments over the normalised message (lower case,
  accents dropped, punctuation gone), matched against the whole message, for plainly worded
  requests ("no me envíes más mensajes"). Only syntax that Python's ``re`` and ECMAScript 5
  read alike.
- ``look_alikes``: everyday words that no typo variant may become ("stoop" is not "stop").
- ``joined``: the language writes without spaces (zh, ja, ko), so courtesy words may touch the
  keyword ("退订谢谢", "수신거부해주세요").

English is always part of a policy: STOP, START and HELP are the words carriers require in every
market, so an operator who picks ``["es"]`` gets English and Spanish.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import BadInput


@dataclass(frozen=True)
class LanguagePack:
    code: str
    name: str
    opt_out_words: tuple[str, ...] = ()
    ordinary_words: tuple[str, ...] = ()
    opt_out_phrases: tuple[str, ...] = ()
    opt_in_words: tuple[str, ...] = ()
    help_words: tuple[str, ...] = ()
    courtesy_words: tuple[str, ...] = ()
    look_alikes: tuple[str, ...] = ()
    joined: bool = False


# English plainly worded requests (US rules since April 2025 expect them honoured).
_ME = r"(?:me|us)"
_MESSAGES = (
    r"(?:(?:marketing|promotional)\s)?(?:messages?|msgs?|texts?|texting|sms|whatsapps?|notifications?|marketing|"
    r"promotions?|promos?|offers|deals|updates|newsletters?|ads|spam)"
)
_EN_PHRASES = (
    # please stop texting me / stop sending me messages / quit messaging us
    rf"(?:stop|quit|cease)\s(?:texting|messaging|sending|contacting|spamming|calling|emailing)"
    rf"(?:\s{_ME})?(?:\s(?:these\s|any\s|your\s)?{_MESSAGES})?",
    # unsubscribe me / opt me out / please remove me
    rf"(?:unsubscribe(?:\s{_ME})?|opt\s{_ME}\sout|opt\sout\s{_ME}|remove\s{_ME}|delete\s{_ME})",
    # remove me from your list / take me off this list / unsubscribe me from this list
    rf"(?:remove|take|unsubscribe|delete)\s{_ME}\s(?:off|from)(?:\sof)?\s"
    rf"(?:(?:your|this|the|these|all|my)\s)?(?:(?:mailing|contact|sms|text|whatsapp|marketing)\s)?lists?",
    # unsubscribe me from these texts / take me off your messages (two phrases: each fits one script)
    rf"(?:remove|take|unsubscribe|delete)\s{_ME}\s(?:off|from)(?:\sof)?\s(?:(?:your|this|the|these|all|my)\s)?"
    rf"{_MESSAGES}",
    # stop promotions (WhatsApp's marketing button) / cancel all messages / unsubscribe from marketing
    rf"(?:stop|cancel|end|unsubscribe(?:\sfrom)?)\s(?:(?:all|these|the|your|my)\s)?{_MESSAGES}",
    # no more messages / no more texts please
    rf"(?:just\s)?no\smore\s(?:(?:of\s)?(?:these|your)\s)?{_MESSAGES}",
    # don't text me anymore / do not contact me / dont message me again
    rf"(?:don'?t|do\snot|never)\s(?:text|message|contact|send|sms|whatsapp|call)\s{_ME}(?:\s(?:any\s)?{_MESSAGES})?",
    # don't send promotions / do not send any more texts
    rf"(?:don'?t|do\snot|never)\ssend\s(?:any\s)?(?:more\s)?{_MESSAGES}",
    # i want to unsubscribe / i'd like to opt out
    rf"i(?:\s(?:want|wish|would\slike)\sto|'d\slike\sto)\s(?:unsubscribe|opt\sout|stop(?:\s(?:receiving|getting))?"
    rf"(?:\s(?:these\s|your\s)?{_MESSAGES})?)",
    # i don't want these messages / i do not want any more texts
    rf"i\s(?:don'?t|do\snot)\swant\s(?:any\s?more\s|these\s|your\s|any\s)?(?:more\s)?{_MESSAGES}",
    # remove my number / delete my number from your list
    r"(?:remove|delete|take)\smy\s(?:number|phone(?:\snumber)?|contact|details)(?:\s(?:from|off)\s(?:(?:your|this|the|all)"
    r"\s)?(?:(?:mailing|contact|sms|text|whatsapp|marketing)\s)?(?:lists?|database|system))?",
    # cancel my subscription / unsubscribe from all
    r"(?:cancel|end|stop)\s(?:my\s|the\s|this\s)?subscription|unsubscribe(?:\sme)?\sfrom\s(?:all|everything|this|it)",
    r"leave\s(?:me|us)\salone",
    # the FCC's own word, with its object: revoke my consent / i revoke consent to these texts
    rf"(?:i\s)?(?:revoke|withdraw)\s(?:my\s|all\s)?consent(?:\s(?:to|for)\s(?:(?:these|your|all)\s)?{_MESSAGES})?",
    # the keyword with a short reason: "Stop, not interested" / "STOP wrong number"
    r"(?:stop|unsubscribe|unsub|cancel|quit|opt[\s-]?out)\s(?:-\s)?(?:(?:i'?m\s|im\s)?not\sinterested|no\sthanks?(?:\syou)?|"
    r"wrong\snumber|(?:i\s)?never\s(?:signed\sup|subscribed)|too\smany\s(?:messages|texts))",
)

# Vietnamese "(advertising) messages", as normalised: tin nhắn (quảng cáo), sms, khuyến mãi
_VI_MESSAGES = r"(?:(?:tin(?:\snhan)?|sms)(?:\s(?:quang\scao|khuyen\smai))?|quang\scao|khuyen\smai)"

PACKS: dict[str, LanguagePack] = {
    p.code: p
    for p in (
        LanguagePack(
            "en",
            "English",
            # spaced letters ("S T O P", "U N S U B"): each gap a space, a hyphen or nothing
            opt_out_words=(
                "STOP",
                "STOPALL",
                "STOP ALL",
                "UNSUBSCRIBE",
                "UNSUB",
                "CANCEL",
                "QUIT",
                "REVOKE",
                "OPTOUT",
                "OPT OUT",
                "OPT-OUT",
                "S T O P",
                "U N S U B",
            ),
            ordinary_words=("END", "REMOVE"),
            opt_out_phrases=_EN_PHRASES,
            opt_in_words=("START", "UNSTOP"),
            help_words=("HELP", "INFO"),
            # also what ends a plain request: "no more texts anymore", "don't text me again"
            courtesy_words=(
                "please",
                "pls",
                "plz",
                "now",
                "it",
                "thanks",
                "thank you",
                "thx",
                "anymore",
                "any more",
                "again",
                "ever again",
            ),
            look_alikes=("stoop", "spot", "post", "tops", "pots", "opts", "quiet", "quite", "cancels", "cancer"),
        ),
        LanguagePack(
            "es",
            "Spanish",
            opt_out_words=(
                "STOP",
                "CANCELAR",
                "DESUSCRIBIR",
                "DESUSCRIBIRME",
                "DARME DE BAJA",
                "DAR DE BAJA",
                "DAME DE BAJA",
                "DENME DE BAJA",
                "QUIERO LA BAJA",
                "DE BAJA",
                "DETENER",
            ),
            ordinary_words=("BAJA", "ALTO", "PARAR", "PARA", "FIN", "BASTA"),
            opt_out_phrases=(
                r"(?:ya\s)?no\s(?:me\s)?(?:envie[ns]?|mande[ns]?|escriba[ns]?|contacte[ns]?)(?:\smas)?"
                r"(?:\s(?:mensajes|sms|whatsapps?|publicidad|promociones))?(?:\smas)?",
                r"(?:ya\s)?no\squiero\s(?:recibir\s)?(?:mas\s)?(?:mensajes|sms|whatsapps?|publicidad|promociones)(?:\smas)?",
                r"(?:quiero|deseo|quisiera)\s(?:darme\sde\sbaja|desuscribirme|(?:cancelar|anular)\s(?:la\s|mi\s)?"
                r"suscripcion|dejar\sde\srecibir(?:\s(?:mensajes|sms|publicidad|promociones))?)",
                r"(?:dejen|deja|deje|para|pare|paren)\sde\s(?:enviar|mandar|escribir|contactar)(?:me)?"
                r"(?:\s(?:mensajes|sms|publicidad))?",
                r"basta\sde\s(?:mensajes|sms|publicidad|spam|promociones)",
                r"(?:detener|parar|cancelar|no\smas)\s(?:las\s|los\s)?(?:promociones|mensajes|publicidad|ofertas|anuncios)",
                r"(?:eliminar|borrar|sacar|quitar|eliminen|borren|saquen|quiten|saquenme|quitenme|eliminenme|borrenme)"
                r"(?:me)?\sde\s(?:la|su|tu|esta|vuestra)\slista",
                r"(?:cancelar|anular)\s(?:la\s|mi\s)?suscripcion",
                r"no\smas\s(?:mensajes|sms|publicidad|promociones)",
                r"no\s(?:me\s)?molest(?:en|es|e)(?:\smas)?",
            ),
            opt_in_words=("SUSCRIBIR", "DARME DE ALTA"),
            help_words=("AYUDA",),
            courtesy_words=("por favor", "porfa", "porfavor", "gracias", "muchas gracias", "ya", "ahora"),
            look_alikes=("detenr",),
        ),
        LanguagePack(
            "fr",
            "French",
            opt_out_words=(
                "STOP",
                "ARRET",
                "ARRETE",
                "ARRETER",
                "STOP PUB",
                "DESABONNER",
                "DESABONNEMENT",
                "DESINSCRIRE",
                "DESINSCRIPTION",
                "STOP SMS",
            ),
            ordinary_words=("FIN",),
            opt_out_phrases=(
                r"je\s(?:(?:veux|souhaite|voudrais|desire)\s(?:me\s(?:desabonner|desinscrire)|ne\splus)|ne\s(?:veux|souhaite|"
                r"desire)\splus)(?:\s(?:recevoir|etre\scontacte)(?:\s(?:de\s|d'|vos\s|ces\s|des\s)?(?:messages|sms|"
                r"notifications|publicites))?)?",
                r"(?:desabonnez|desinscrivez|retirez|supprimez)[\s-]moi(?:\s(?:de\s(?:la|votre|cette)\sliste))?",
                r"(?:ne\s)?(?:m'|me\s)?(?:envoyez|ecrivez|contactez)\splus(?:\s(?:de\s|d')?(?:messages|sms|rien))?",
                r"arretez(?:\sde\sm'(?:envoyer|ecrire)(?:\s(?:des\s|de\s)?(?:messages|sms))?)?",
                r"(?:plus\sde|pas\sde)\s(?:messages|sms|publicites?|notifications)",
                r"(?:arreter|stopper|stop)\s(?:les\s)?(?:promotions|messages|notifications|publicites|offres)",
            ),
            opt_in_words=("DEMARRER", "REABONNER"),
            help_words=("AIDE",),
            courtesy_words=("s'il vous plait", "s'il te plait", "svp", "stp", "merci", "merci beaucoup", "maintenant"),
        ),
        LanguagePack(
            "de",
            "German",
            opt_out_words=("STOPP", "STOP", "ABMELDEN", "ABBESTELLEN", "KUNDIGEN", "AUSTRAGEN", "ABMELDUNG"),
            ordinary_words=("ENDE", "SCHLUSS", "AUFHOREN"),
            opt_out_phrases=(
                r"(?:bitte\s)?keine\s(?:nachrichten|sms|werbung|whatsapps?|mitteilungen)\smehr",
                r"ich\s(?:mochte|will|mochte\smich|will\smich)\s(?:mich\s)?(?:abmelden|austragen|abbestellen|"
                r"keine\s(?:nachrichten|sms|werbung)\smehr(?:\serhalten|\sbekommen)?)",
                r"(?:bitte\s)?(?:nicht\smehr|nie\swieder)\s(?:schreiben|kontaktieren|anschreiben|senden)",
                r"(?:bitte\s)?(?:schreiben\ssie\smir|schreib\smir)\snicht\smehr",
                r"(?:hor|hort|horen\ssie)\sauf(?:\smir\s(?:zu\sschreiben|nachrichten\szu\s(?:senden|schicken)))?",
                r"(?:bitte\s)?(?:nachrichten|newsletter|werbung|angebote|promotions|aktionen)\s(?:abbestellen|stoppen|abmelden)",
            ),
            opt_in_words=("ANMELDEN", "STARTEN"),
            help_words=("HILFE",),
            courtesy_words=("bitte", "danke", "danke schon", "vielen dank", "jetzt", "sofort"),
            look_alikes=("stopf",),
        ),
        LanguagePack(
            "pt",
            "Portuguese",
            opt_out_words=("STOP", "CANCELAR", "DESCADASTRAR", "DESCADASTRE", "DESCADASTRA", "DESINSCREVER"),
            ordinary_words=("PARE", "PARAR", "SAIR", "CHEGA", "BASTA"),
            opt_out_phrases=(
                r"(?:eu\s)?(?:nao|n)\s(?:quero|desejo)\s(?:mais(?:\sreceber)?|receber(?:\smais)?)"
                r"(?:\s(?:mensage(?:m|ns)|sms|promocoes|propaganda|whatsapps?))?(?:\smais)?",
                r"cancelar\s(?:a\s|minha\s)?(?:inscricao|assinatura)",
                r"(?:pare|parem|para)\sde\s(?:me\s)?(?:enviar|mandar)(?:\s(?:mensage(?:m|ns)|sms|promocoes))?",
                r"(?:me\s)?(?:tire|tirem|remova|removam|exclua|excluam)(?:[\s-]me)?\s(?:da|desta|dessa)\slista",
                r"quero\s(?:sair(?:\sda\slista)?|me\sdescadastrar|cancelar(?:\sa\sinscricao)?|descadastrar)",
                r"(?:nao|n)\s(?:me\s)?(?:envie|mande|enviem|mandem)\smais(?:\s(?:mensage(?:m|ns)|sms|nada))?",
                r"chega\sde\s(?:mensage(?:m|ns)|sms|propaganda|promocoes)",
                r"(?:parar|cancelar)\s(?:as\s|os\s)?(?:promocoes|mensage(?:m|ns)|propagandas?|ofertas|anuncios)",
            ),
            opt_in_words=("ASSINAR",),
            help_words=("AJUDA",),
            courtesy_words=("por favor", "pf", "pfv", "obrigado", "obrigada", "agora", "ja"),
        ),
        LanguagePack(
            "id",
            "Indonesian",
            opt_out_words=("STOP", "BERHENTI", "BERHENTI BERLANGGANAN", "HENTIKAN", "UNSUB", "BATAL LANGGANAN"),
            opt_out_phrases=(
                r"(?:tolong\s|mohon\s)?jangan\s(?:kirim|kirimi|kirimkan|hubungi|sms)(?:\s(?:saya|aku))?"
                r"(?:\s(?:pesan|sms|promo|iklan))?(?:\s(?:lagi|lg))?",
                r"(?:saya\s|aku\s)?(?:mau|ingin|minta)\s(?:berhenti(?:\sberlangganan)?|unsub|keluar(?:\sdari\s(?:daftar|list))?)",
                r"(?:tolong\s)?(?:hapus|keluarkan)\s(?:saya|aku|nomor\s(?:saya|aku))(?:\sdari\s(?:daftar|list))?",
                r"(?:berhenti|stop)\s(?:kirim|mengirim)(?:\s(?:pesan|sms|promo))?",
                r"jangan\sganggu(?:\s(?:saya|aku))?(?:\slagi)?",
                r"(?:hentikan|berhenti|stop)\s(?:promosi|pesan|iklan|promo)",
                r"(?:saya\s|aku\s)?(?:tidak|nggak|gak|ga|ngga)\s(?:mau|ingin)\s(?:terima|menerima|dapat|dapet)"
                r"(?:\s(?:pesan|sms|promo|iklan))?(?:\slagi)?",
            ),
            opt_in_words=("MULAI",),
            help_words=("BANTUAN",),
            courtesy_words=(
                "tolong",
                "mohon",
                "ya",
                "yaa",
                "kak",
                "terima kasih",
                "makasih",
                "trims",
                "dong",
                "aja",
                "saja",
                "sekarang",
            ),
        ),
        LanguagePack(
            "ms",
            "Malay",
            opt_out_words=(
                "STOP",
                "BERHENTI",
                "HENTI",
                "BERHENTI MELANGGAN",
                "NYAHLANGGAN",
                "HENTIKAN",
                "BATAL LANGGANAN",
            ),
            opt_out_phrases=(
                r"(?:tolong\s|sila\s)?jangan\s(?:hantar|hubungi|sms)(?:\s(?:saya|aku))?(?:\s(?:mesej|sms|promosi|iklan))?"
                r"(?:\slagi)?",
                r"(?:saya\s)?(?:mahu|nak|ingin)\s(?:berhenti(?:\smelanggan)?|keluar(?:\sdari\ssenarai)?|nyahlanggan)",
                r"(?:tolong\s|sila\s)?(?:buang|keluarkan)\s(?:saya|nombor\ssaya)(?:\sdari\ssenarai)?",
                r"(?:hentikan|berhenti|stop)\s(?:promosi|mesej|iklan|promo)",
            ),
            opt_in_words=("MULA",),
            help_words=("BANTUAN",),
            courtesy_words=("tolong", "sila", "ya", "terima kasih", "tq", "sekarang"),
        ),
        LanguagePack(
            "nl",
            "Dutch",
            opt_out_words=("STOP", "STOPPEN", "AFMELDEN", "UITSCHRIJVEN", "OPZEGGEN"),
            opt_out_phrases=(
                r"(?:geen|niet\smeer)\s(?:berichten|sms(?:jes)?|reclame|whatsapps?|appjes)(?:\smeer)?",
                r"ik\swil\s(?:me\s|mij\s)?(?:afmelden|uitschrijven|geen\s(?:berichten|sms(?:jes)?|reclame)\smeer"
                r"(?:\sontvangen)?)",
                r"stop\s(?:met\s)?(?:sturen|berichten|sms(?:en)?|appen)",
                r"niet\smeer\s(?:sturen|appen|sms(?:en)?|berichten\ssturen)",
                r"stop(?:pen)?\s(?:met\s)?(?:promoties|reclame|aanbiedingen|nieuwsbrieven?)",
                r"(?:haal|verwijder)\s(?:me|mij)\s(?:van|uit)\s(?:de|jullie|deze|uw)\slijst",
                r"(?:stuur|app|sms)\s(?:me|mij)\s(?:geen\s(?:berichten\s)?meer|niet\smeer)",
            ),
            opt_in_words=("AANMELDEN",),
            help_words=("HULP",),
            courtesy_words=("alsjeblieft", "alstublieft", "aub", "graag", "dank je", "dankjewel", "bedankt", "nu"),
            look_alikes=("stopen",),
        ),
        LanguagePack(
            "zh",
            "Chinese",
            opt_out_words=(
                "退订",
                "退訂",
                "取消订阅",
                "取消訂閱",
                "退订短信",
                "停止订阅",
                "停止發送",
                "停止发送",
                "停止推送",
                "停止推播",
                "停止推广",
                "停止推廣",
                "停止促销",
                "拒收",
                "不要再发",
                "别再发了",
                "不要再发了",
                "退出",
            ),
            ordinary_words=("TD", "停止"),
            opt_out_phrases=(
                r"(?:请|請)?(?:不要|别|別|勿)再?(?:发|發|传送|傳送|给我发|給我發)(?:了|短信|信息|消息|讯息)*",
            ),
            opt_in_words=("订阅", "訂閱", "重新订阅"),
            help_words=("帮助", "幫助"),
            courtesy_words=("请", "請", "谢谢", "謝謝", "麻烦", "了", "吧", "啊"),
            joined=True,
        ),
        LanguagePack(
            "ja",
            "Japanese",
            opt_out_words=(
                "配信停止",
                "配信解除",
                "配信不要",
                "登録解除",
                "停止",
                "ストップ",
                "解除",
                "やめて",
                "止めて",
            ),
            opt_out_phrases=(
                r"(?:メール|メッセージ|line)?(?:配信|メッセージ|メール|通知|送信)を?(?:停止|解除|やめて|止めて)(?:して)?(?:ください|下さい|ほしい|欲しい)?",
                r"(?:もう)?(?:送らないで|送信しないで|連絡しないで|配信しないで)(?:ください|下さい)?",
                r"(?:プロモーション|広告|お知らせ|キャンペーン)(?:の配信)?を?(?:停止|解除|中止)",
            ),
            opt_in_words=("配信再開", "配信開始"),
            help_words=("ヘルプ",),
            courtesy_words=(
                "ください",
                "下さい",
                "お願いします",
                "おねがいします",
                "でお願いします",
                "して",
                "希望",
                "です",
            ),
            joined=True,
        ),
        LanguagePack(
            "ko",
            "Korean",
            opt_out_words=(
                "수신거부",
                "수신 거부",
                "수신거절",
                "구독취소",
                "구독 취소",
                "광고거부",
                "광고 거부",
                "탈퇴",
            ),
            ordinary_words=("그만",),
            opt_out_phrases=(
                r"(?:이제\s?)?(?:그만|더\s?이상)\s?(?:좀\s?)?(?:보내(?:세요|지\s?마세요|주세요|지\s?말아\s?주세요)?|연락(?:하지\s?마세요)?)",
                r"(?:이제\s?)?그만\s?(?:해|해요|하세요|해라)",
                r"(?:프로모션|광고|마케팅|수신)\s?(?:중지|중단|거부)",
                r"(?:문자|메시지|광고)\s?(?:보내지\s?마세요|그만(?:\s?보내(?:세요|주세요)?)?|(?:수신\s?)?거부)",
            ),
            opt_in_words=("수신동의", "수신 동의"),
            help_words=("도움말",),
            courtesy_words=(
                "해주세요",
                "해 주세요",
                "합니다",
                "할게요",
                "주세요",
                "감사합니다",
                "부탁드립니다",
                "좀",
                "요",
            ),
            joined=True,
        ),
        # --- Asia beyond CJK, and Europe's east -------------------------------------------
        # Thai writes without spaces between words: the message must still be the keyword as a whole
        # (with courtesy particles touching it: "หยุดครับ"); "วันหยุด" (holiday) is no opt-out.
        LanguagePack(
            "th",
            "Thai",
            opt_out_words=(
                "STOP",
                "หยุด",
                "หยุดส่ง",
                "ยกเลิก",
                "ยกเลิกการรับข้อความ",
                "ยกเลิกรับข้อความ",
                "ไม่รับข้อความ",
                "เลิกรับข้อความ",
                "ยกเลิกสมาชิก",
                "ยกเลิกการเป็นสมาชิก",
                "ไม่ต้องส่งมาอีก",
                "ไม่ต้องส่งมา",
                "ยกเลิกรับข่าวสาร",
                "ไม่รับข่าวสาร",
                "เลิกส่ง",
            ),
            opt_out_phrases=(
                r"(?:กรุณา|ช่วย)?(?:หยุด|เลิก|ไม่ต้อง)ส่ง(?:ข้อความ|sms|เอสเอ็มเอส|โปรโมชั่น|ข่าวสาร|โฆษณา)?(?:มา)?(?:ให้(?:ผม|ฉัน|หนู)?)?(?:อีก)?",
                r"(?:ไม่(?:ต้องการ|อยาก)รับ|ขอยกเลิก(?:การ)?รับ)(?:ข้อความ|sms|โปรโมชั่น|ข่าวสาร|โฆษณา)(?:อีก)?",
                r"(?:ลบ|เอา)(?:เบอร์)?(?:ผม|ฉัน|หนู)?ออก(?:จาก(?:รายชื่อ|ระบบ))?",
            ),
            opt_in_words=("เริ่ม", "สมัคร"),
            help_words=("ช่วยเหลือ",),
            courtesy_words=(
                "ครับ",
                "ค่ะ",
                "คะ",
                "นะ",
                "นะครับ",
                "นะคะ",
                "ด้วย",
                "ขอบคุณ",
                "ขอบคุณครับ",
                "ขอบคุณค่ะ",
                "กรุณา",
                "เลย",
                "ได้แล้ว",
            ),
            joined=True,
        ),
        # Vietnamese: customers often type without diacritics ("ngung nhan tin"); normalisation drops
        # them (and folds đ to d), so one pattern reads both. Decree 91/2020/ND-CP on spam: a reply of
        # "TC" (từ chối, refuse) refuses a sender's advertising messages.
        LanguagePack(
            "vi",
            "Vietnamese",
            opt_out_words=(
                "STOP",
                "TỪ CHỐI",
                "HỦY ĐĂNG KÝ",
                "HỦY DỊCH VỤ",
                "NGỪNG NHẬN TIN",
                "DỪNG NHẬN TIN",
                "KHÔNG NHẬN TIN",
                "DỪNG LẠI",
                "NGỪNG GỬI",
                "DỪNG GỬI",
            ),
            ordinary_words=("TC", "HỦY", "NGỪNG", "DỪNG"),
            opt_out_phrases=(
                rf"(?:xin\s|vui\slong\s|lam\son\s)?(?:dung|ngung|thoi)\s(?:gui|nhan)(?:\s{_VI_MESSAGES})?"
                r"(?:\s(?:cho\s)?(?:toi|minh|em))?(?:\s(?:nua|them))?",
                rf"(?:toi\s|minh\s|em\s)?khong\s(?:muon\s)?nhan\s(?:them\s)?{_VI_MESSAGES}(?:\s(?:nay|nua))?(?:\snua)?",
                r"(?:dung|khong\sduoc|dung\sco)\sgui\s(?:tin(?:\snhan)?\s|sms\s|quang\scao\s)?(?:cho\s)?(?:toi|minh|em)(?:\snua)?",
                r"(?:toi\s|minh\s)?(?:muon\s)?huy\s(?:dang\sky|dich\svu|nhan\stin|tin\snhan\squang\scao)",
                r"(?:xoa|bo)\s(?:toi|so\s(?:cua\s)?(?:toi|minh))\s(?:khoi|ra\skhoi)\sdanh\ssach",
            ),
            opt_in_words=("ĐĂNG KÝ", "BẮT ĐẦU"),
            help_words=("TRỢ GIÚP", "HỖ TRỢ"),
            courtesy_words=("ạ", "nhé", "nha", "cảm ơn", "xin cảm ơn", "cám ơn", "vui lòng", "làm ơn", "giúp", "ngay"),
        ),
        LanguagePack(
            "tl",
            "Filipino (Tagalog)",
            opt_out_words=("STOP", "TIGIL", "ITIGIL", "AYOKO NA", "UNSUBSCRIBE"),
            ordinary_words=("HINTO", "TAMA NA", "TAMA NA PO"),
            opt_out_phrases=(
                r"(?:wag|huwag)\s(?:na\s)?(?:(?:nyo|niyo|mo|po)\s)*(?:na\s)?(?:ako\s|akong\s)?(?:i[\s-]?text|mag[\s-]?text|padalhan|"
                r"i[\s-]?message|mag[\s-]?message|mag[\s-]?send)(?:\s(?:ako|po|ulit|pa|na|ng\s(?:text|mensahe|promo)))*",
                r"(?:ayoko|ayaw\sko)\sna\s(?:ng\s|ma-?receive\s|makatanggap\sng\s)?(?:text|mensahe|messages?|promo|sms)",
                r"(?:itigil|tigil|tigilan)\s(?:na\s)?(?:(?:nyo|niyo|mo)\s)?(?:na\s)?(?:po\s)?(?:ang\s)?(?:pag-?text|"
                r"pagpapadala|pag-?message|text|mensahe|ako)",
                r"(?:alisin|tanggalin)\s(?:nyo\s|niyo\s|mo\s)?(?:na\s)?(?:po\s)?(?:ako|ang\snumber\sko|number\sko|numero\sko)"
                r"(?:\s(?:sa|mula\ssa)\s(?:listahan|list))?",
            ),
            opt_in_words=("SUMALI", "SIMULAN"),
            help_words=("TULONG",),
            courtesy_words=("po", "na po", "please", "pls", "salamat", "salamat po", "paki", "pakiusap"),
        ),
        # Hindi, in Devanagari and romanised ("Hinglish": "message mat bhejo"). India's TRAI (TCCCPR
        # 2018) takes complaints and preferences through 1909; the reply words are common usage.
        LanguagePack(
            "hi",
            "Hindi",
            opt_out_words=(
                "STOP",
                "रोकें",
                "रोको",
                "बंद करो",
                "बंद करें",
                "बंद कीजिए",
                "बंद कर दो",
                "सदस्यता रद्द करें",
                "सदस्यता समाप्त करें",
                "अनसब्सक्राइब",
                "BAND KARO",
                "BAND KAREN",
                "BAND KAREIN",
                "BAND KAR DO",
                "BAND KARDO",
            ),
            ordinary_words=("बंद", "BAND", "ROKO", "ROKEN"),
            opt_out_phrases=(
                r"(?:कृपया\s)?(?:मुझे\s)?(?:मैसेज|मेसेज|संदेश|एसएमएस|sms|message)\s(?:मत|न|ना)\s(?:भेजें|भेजो|भेजिए|भेजना|करें|करो)",
                r"(?:मैसेज|मेसेज|संदेश|एसएमएस)\s(?:भेजना\s)?बंद\s(?:करें|करो|कीजिए|कर\sदो|कर\sदें)",
                r"(?:please\s|plz\s|pls\s)?(?:mujhe\s|muje\s)?(?:message|messages|msg|sms)\s(?:mat|na|mt)\s(?:bhejo|bhejiye|"
                r"bheje|bhejna|bhejein|karo)",
                r"(?:message|messages|msg|sms)\s(?:bhejna\s)?band\s(?:karo|karein|karen|kar\sdo|kardo|kijiye)",
            ),
            opt_in_words=("शुरू", "SHURU"),
            help_words=("मदद", "सहायता", "MADAD"),
            courtesy_words=("कृपया", "धन्यवाद", "जी", "अब", "please", "plz", "pls", "ji", "dhanyavad"),
        ),
        LanguagePack(
            "it",
            "Italian",
            opt_out_words=(
                "STOP",
                "CANCELLA",
                "CANCELLAMI",
                "DISISCRIVI",
                "DISISCRIVIMI",
                "DISISCRIZIONE",
                "ANNULLA ISCRIZIONE",
                "REVOCA",
            ),
            ordinary_words=("BASTA", "ANNULLA"),
            opt_out_phrases=(
                r"non\s(?:mi\s)?(?:mandate|inviate|scrivete|contattate|mandare|inviare|scrivere|contattare)(?:mi)?\spiu"
                r"(?:\s(?:messaggi|sms|nulla|niente|pubblicita))?",
                r"(?:basta|stop)\s(?:con\s)?(?:i\s|le\s)?(?:messaggi|sms|pubblicita|promozioni|offerte)",
                r"(?:voglio|vorrei|desidero)\s(?:disiscrivermi|cancellarmi|annullare\sl'iscrizione|non\sricevere\spiu"
                r"(?:\s(?:messaggi|sms|pubblicita))?)",
                r"(?:cancellatemi|toglietemi|rimuovetemi|cancellami|toglimi|rimuovimi)(?:\s(?:dalla|da\squesta)(?:\svostra)?"
                r"\slista)?",
                r"non\svoglio\s(?:piu\s)?(?:ricevere\s)?(?:messaggi|sms|pubblicita|promozioni)(?:\spiu)?",
            ),
            opt_in_words=("ISCRIVIMI", "RIATTIVA"),
            help_words=("AIUTO",),
            courtesy_words=("per favore", "per piacere", "grazie", "grazie mille", "ora", "subito", "pf"),
        ),
        LanguagePack(
            "ru",
            "Russian",
            opt_out_words=(
                "STOP",
                "СТОП",
                "ОТПИСАТЬСЯ",
                "ОТПИСКА",
                "ОТПИШИТЕ",
                "ОТПИШИТЕ МЕНЯ",
                "ОТМЕНИТЬ ПОДПИСКУ",
                "НЕ ПИШИТЕ",
                "НЕ ПРИСЫЛАЙТЕ",
            ),
            ordinary_words=("ХВАТИТ", "ОТМЕНА"),
            opt_out_phrases=(
                r"(?:больше\s)?не\s(?:присылайте|отправляйте|пишите|шлите|присылать|отправлять|звоните)(?:\sмне)?(?:\sбольше)?"
                r"(?:\s(?:сообщения|сообщений|смс|sms|рекламу|рассылку|ничего))?",
                r"(?:отпишите|удалите|уберите|исключите)\s(?:меня|мой\sномер)(?:\s(?:из|от)\s(?:рассылки|списка|базы))?",
                r"(?:хочу|прошу)\s(?:отписаться|отменить\sподписку|не\sполучать(?:\s(?:сообщения|смс|рекламу|рассылку))?)",
                r"(?:стоп|хватит)\s(?:рассылка|рассылку|спам|реклама|рекламу|сообщения|смс)",
                r"(?:отписаться|отписка)\sот\s(?:рассылки|всего|сообщений)",
            ),
            opt_in_words=("ПОДПИСАТЬСЯ", "СТАРТ"),
            help_words=("ПОМОЩЬ", "СПРАВКА"),
            courtesy_words=("пожалуйста", "пжл", "спасибо", "сейчас", "уже"),
        ),
        LanguagePack(
            "pl",
            "Polish",
            opt_out_words=(
                "STOP",
                "REZYGNUJĘ",
                "REZYGNACJA",
                "WYPISZ",
                "WYPISZ MNIE",
                "ODSUBSKRYBUJ",
                "ANULUJ SUBSKRYPCJĘ",
            ),
            ordinary_words=("KONIEC", "DOŚĆ", "DOSYĆ"),
            opt_out_phrases=(
                r"(?:prosze\s)?nie\s(?:wysylac|wysylajcie|przysylac|przysylajcie|pisac|piszcie|wysylaj)(?:\s(?:mi|do\smnie))?"
                r"(?:\s(?:wiecej|juz))*(?:\s(?:wiadomosci|sms(?:ow|y)?|reklam|ofert))?(?:\s(?:wiecej|juz))?",
                r"(?:wypiszcie|usuncie|wypisz|usun)\s(?:mnie|moj\snumer)(?:\sz\s(?:listy|bazy|subskrypcji))?",
                r"(?:chce|chcialbym|chcialabym)\s(?:zrezygnowac|sie\swypisac|wypisac\ssie|anulowac\ssubskrypcje)"
                r"(?:\sz\s(?:subskrypcji|wiadomosci|newslettera|sms(?:ow)?))?",
                r"nie\schce\s(?:(?:juz|wiecej)\s)?(?:dostawac|otrzymywac)\s(?:(?:juz|wiecej)\s)?(?:wiadomosci|sms(?:ow)?|"
                r"reklam|ofert)",
                r"(?:koniec|dosc)\s(?:z\s)?(?:wiadomosciami|wiadomosci|sms-?(?:ami|ow)?|reklam(?:ami)?|spamem)",
            ),
            opt_in_words=("SUBSKRYBUJ", "ZAPISZ MNIE"),
            help_words=("POMOC",),
            courtesy_words=("proszę", "dziękuję", "dzięki", "już", "teraz", "pozdrawiam"),
        ),
        # Turkish: RET is the reply Turkey's İleti Yönetim Sistemi (İYS; Law 6563, Regulation on
        # Commercial Communication, 2015) has businesses offer for rejecting commercial messages.
        LanguagePack(
            "tr",
            "Turkish",
            opt_out_words=(
                "STOP",
                "İPTAL ET",
                "ABONELİK İPTAL",
                "ABONELİĞİ İPTAL",
                "ABONELİKTEN ÇIK",
                "LİSTEDEN ÇIK",
                "İSTEMİYORUM",
            ),
            ordinary_words=("RET", "İPTAL", "DUR"),
            opt_out_phrases=(
                r"(?:lutfen\s)?(?:bana\s)?(?:artik\s)?(?:mesaj|sms|ileti|reklam)\s(?:gondermeyin|atmayin|yollamayin|gonderme|"
                r"atma|gondermeyiniz)",
                r"(?:artik\s)?(?:mesaj|sms|ileti|reklam)(?:lari|lar)?\s(?:almak\s)?(?:istemiyorum|iptal)",
                r"(?:beni|numarami)\s(?:listeden|listenizden|aboneliklerden)\s(?:cikarin|silin|cikar|sil|cikartin)",
                r"(?:aboneligimi|uyeligimi)\s(?:iptal\set|iptal\sedin|sonlandirin|bitirin)",
            ),
            opt_in_words=("BAŞLA", "ABONE OL"),
            help_words=("YARDIM",),
            courtesy_words=("lütfen", "teşekkürler", "teşekkür ederim", "sağolun", "artık", "hemen"),
        ),
        # Arabic: normalisation drops the short vowels and tatweel, hamza marks on alef (أ إ آ -> ا),
        # and reads alef maksura as ya, so "أوقف" and "اوقف" are one word.
        LanguagePack(
            "ar",
            "Arabic",
            opt_out_words=(
                "STOP",
                "أوقف",
                "إيقاف",
                "إلغاء الاشتراك",
                "الغاء الاشتراك",
                "ألغِ الاشتراك",
                "إلغاء التسجيل",
                "أوقفوا الرسائل",
                "لا أرغب",
                "لا اريد",
            ),
            ordinary_words=("توقف", "إلغاء", "وقف", "كفى"),
            opt_out_phrases=(
                r"(?:من\sفضلك\s|رجاء\s|ارجو\s)?لا\s(?:ترسل|ترسلوا|ترسلي|تبعث|تبعثوا)(?:\s(?:لي|الي))?(?:\s(?:رسائل|الرسائل|"
                r"رساله|رسالة|اي\sرسائل|اعلانات|عروض))?(?:\s(?:مره\sاخري|مرة\sاخري|بعد\sالان|ابدا))?",
                r"(?:اوقف|ايقاف|توقف|اوقفوا|وقف)\s(?:ارسال\s)?(?:الرسائل|رسائل|الاعلانات|الاشتراك|العروض)",
                r"(?:احذفني|احذف\sرقمي|ازل\sرقمي|ازلني)(?:\sمن\s(?:القائمه|القائمة))?",
                r"(?:لا\s(?:اريد|ارغب\sفي)|ما\sابي|مابي)\s(?:استلام\s|تلقي\s)?(?:رسائل|الرسائل|اعلانات|عروض)"
                r"(?:\s(?:بعد\sالان|مره\sاخري|مرة\sاخري))?",
                r"(?:اريد|ابي|اود)\s(?:الغاء\sالاشتراك|ايقاف\sالرسائل)",
            ),
            opt_in_words=("اشترك",),
            help_words=("مساعدة", "مساعده"),
            courtesy_words=("من فضلك", "لو سمحت", "رجاء", "رجاءً", "شكرا", "شكراً", "شكرا لك", "الان"),
        ),
    )
}

DEFAULT_LANGUAGES = ("en",)
ALWAYS = "en"  # STOP, START and HELP: what carriers require in every market


def known_languages() -> str:
    return ", ".join(f"{p.code} ({p.name})" for p in PACKS.values())


def parse_languages(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """ISO 639-1 codes from a list or a comma-separated string; English first, each once.

    An unknown code is a clear error listing the known ones."""
    if value is None:
        return DEFAULT_LANGUAGES
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = [str(item).strip().lower() for item in items if str(item).strip()]
    unknown = [c for c in codes if c not in PACKS]
    if unknown:
        raise BadInput(
            f"unknown language code(s) {', '.join(map(repr, unknown))}: use ISO 639-1 codes among {known_languages()}"
        )
    return tuple(dict.fromkeys([ALWAYS, *codes]))


def packs_for(languages: Iterable[str]) -> tuple[LanguagePack, ...]:
    return tuple(PACKS[code] for code in parse_languages(languages))
