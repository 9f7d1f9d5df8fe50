"""German and English stop words, left out of the "frequent words" in summaries, and
which of the two a short message is written in."""

import re

GERMAN_STOP_WORDS = frozenset(
    """
    aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
    anderes anderm andern anderr anders auch auf aus bei bin bis bist da damit dann das dass
    dasselbe dazu dein deine deinem deinen deiner deines dem demselben den denn denselben der
    derer derselbe derselben des desselben dessen dich die dies diese dieselbe dieselben
    diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines
    einig einige einigem einigen einiger einiges einmal er es etwas euch euer eure eurem
    euren eurer eures für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich
    ihm ihn ihnen ihr ihre ihrem ihren ihrer ihres im in indem ins ist jede jedem jeden
    jeder jedes jene jenem jenen jener jenes jetzt kann kein keine keinem keinen keiner
    keines können könnte machen man manche manchem manchen mancher manches mein meine meinem
    meinen meiner meines mich mir mit muss musste nach nicht nichts noch nun nur ob oder
    ohne sehr sein seine seinem seinen seiner seines selbst sich sie sind so solche solchem
    solchen solcher solches soll sollte sondern sonst über um und uns unsere unserem unseren
    unser unseres unter viel vom von vor während war waren warst was weg weil weiter welche
    welchem welchen welcher welches wenn werde werden wie wieder will wir wird wirst wo
    wollen wollte würde würden zu zum zur zwar zwischen immer schon mal ganz gut gern gerne
    wurde wäre wären bitte einfach mehr kam beim ans aufs übers dabei darauf daran davon
    hätte wurden worden seid eigentlich bisschen ziemlich eben halt bzw usw etc gerade
    trotzdem deshalb deswegen sowie sodass obwohl gibt gab geht ging kommt viele total echt
    nie leider
    """.split()
)
ENGLISH_STOP_WORDS = frozenset(
    """
    about above after again against all also and any are because been before being below
    between both but can could did does doing down during each few for from further had has
    have having her here hers herself him himself his how into its itself just more most
    myself nor not now off once only other our ours ourselves out over own same she should
    some such than that the their theirs them themselves then there these they this those
    through too under until very was were what when where which while who whom why will
    with would you your yours yourself yourselves really very much get got please even came
    """.split()
)
STOP_WORDS = GERMAN_STOP_WORDS | ENGLISH_STOP_WORDS

# Words of either language only, for telling them apart: the short ones of English left
# out of the stop words (shorter than a frequent word is long) added.
_ONLY_GERMAN = (
    GERMAN_STOP_WORDS
    - ENGLISH_STOP_WORDS
    - frozenset(
        # English words too ("Total garbage man", "Gut feeling, total mess" were German: review)
        "also so in an am die um man total gut".split()
    )
)
_ONLY_ENGLISH = (
    ENGLISH_STOP_WORDS | frozenset("i me my is it do to of on at by or if be we he us".split())
) - GERMAN_STOP_WORDS
_WORD = re.compile(r"[^\W\d_]+")


def written_in(text: str) -> str | None:
    """ "de" or "en" where `text` uses at least two words of that language's own and none
    of the other's ("what do you do with my data?", "Kann ich das löschen?"); None where it
    cannot tell ("ok", "Essen kalt", a mix)."""
    words = _WORD.findall(text.casefold())
    german = sum(word in _ONLY_GERMAN for word in words)
    english = sum(word in _ONLY_ENGLISH for word in words)
    if german >= 2 and not english:
        return "de"
    if english >= 2 and not german:
        return "en"
    return None
