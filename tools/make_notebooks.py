"""Write the notebook templates in notebooks/ (without outputs; `medlofte report` executes them).

The notebooks are the source of truth once written; this script exists so that their shared
structure (heading, tagged parameters cell, library calls) stays uniform. Re-running it
overwrites the notebooks and their outputs: run `make report` afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PARAMETERS = 'config = "evaluations/knivsta-2024-2025.toml"\nmunicipality = ""'
SETUP = (
    "from IPython.display import Markdown\n\n"
    "from medlofte_analysis import plots, presentation\n"
    "from medlofte_analysis.evaluate import run_evaluation\n\n"
    "ev = run_evaluation(config, municipality)\n"
    "Markdown(presentation.intro_markdown(ev))"
)
# The context (municipality, years, comparison group) is shown once in the report, in the
# summary; the other notebooks show it to the analyst but not in the report.
REMOVE = {"tags": ["remove-in-report"]}
LEAD = {"tags": ["lead"]}

AREAS = {
    "unga": (
        "02-unga.ipynb",
        "Unga med normbrytande beteende",
        "*Arbeta i en gemensam samverkansmodell för ett samordnat arbete kring ungdomar med "
        "normbrytande beteende för att öka förutsättningarna till tidig upptäckt avseende "
        "riskbeteende kriminalitet.*",
        "Tidig upptäckt (SSPF-modellen) syns inte direkt i anmälda brott. Vi följer brott där "
        "unga är offer på allmän plats (rån, våld i offentlig miljö) och ungas egna svar i "
        "enkäter. Talen är små: ett enskilt år med några fler anmälningar säger lite.",
    ),
    "narvaro": (
        "03-narvaro-och-trafik.ipynb",
        "Polisiär närvaro på prioriterade platser: trafik och skolor",
        "*Polisiär närvaro på prioriterade platser i Knivsta kommun för att öka tryggheten och "
        "minska brottsligheten. Polisens fokusområden för närvaro är trafik såsom kontroll av "
        "hastighet och nykterhet, och besök på skolor.*",
        "Trafikbrott upptäcks nästan bara genom polisens kontroller: de mäter att närvaron "
        "genomförts (en *output*), inte att trafiken blivit säkrare. Skadegörelse, våld på "
        "allmän plats och upplevd trygghet är de utfall som närvaron ska påverka.",
    ),
    "narkotika": (
        "04-narkotika.ipynb",
        "Insatser i samverkan mot narkotika",
        "*Insatser i samverkan mot narkotika.*",
        "Narkotikabrott är spaningsbrott: fler anmälningar betyder i första hand fler "
        "polisinsatser, inte mer narkotika. Upplevda problem med öppen narkotikahandel och "
        "ungas självrapporterade bruk är de utfall som insatserna ska minska.",
    ),
    "vald_nara_relation": (
        "05-vald-i-nara-relation.ipynb",
        "Våld i nära relation",
        "*Arbeta mot våld i nära relation* (nytt fokusområde 2024–2025; målet är att "
        "*medvetandegöra* våldet).",
        "Våld i nära relation har ett stort mörkertal. Ett löfte som ska öka medvetenheten kan "
        "öka anmälningarna, så en ökning är **tvetydig** och inget misslyckande. Riktningen "
        "skrevs ner i förväg i indikatorkatalogen, innan resultaten var kända.",
    ),
}


def _params() -> nbformat.NotebookNode:
    cell = new_code_cell(PARAMETERS)
    cell.metadata["tags"] = ["parameters"]
    return cell


def focus_notebook(area: str, title: str, pledge: str, reading: str) -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell(
                f"# {title}\n\n**Fråga:** Har fokusområdets mått förändrats mellan basåret och "
                "uppföljningen, mer än i jämförelsegruppen, och hade en förändring kunnat "
                f"upptäckas med så här små tal?\n\nLöftet: {pledge}"
            ),
            _params(),
            new_code_cell(SETUP, metadata=REMOVE),
            new_markdown_cell(f"## Så läser du måtten\n\n{reading}"),
            new_markdown_cell(
                "## Utveckling över tid\n\nKommunen (blå linje med punkter) mot "
                "jämförelsegruppen (median streckad, lägsta till högsta värde som grått fält). "
                "Basår och uppföljning är markerade. Enkätvärden visas med sina publicerade "
                "95 %-intervall."
            ),
            new_code_cell(f'presentation.show_trends(ev, "{area}")'),
            new_markdown_cell(
                "## Resultat per metod\n\nVarje rad är en metod. *Kvot* 1 betyder ingen "
                "förändring; *skillnad* 0 betyder ingen förändring. q är p-värdet justerat för "
                "många test. *Minsta upptäckbara förändring* är den förändring som hade hittats "
                "med 80 % sannolikhet. Orden förklaras i *Ordlistan*."
            ),
            new_code_cell(f'presentation.show(presentation.results_table(ev, "{area}"))'),
            new_markdown_cell("## Skattningar med osäkerhet"),
            new_code_cell(f'presentation.show_estimates(ev, "{area}")'),
            new_markdown_cell("## Tolkning"),
            new_code_cell(f'Markdown(presentation.interpretation_markdown(ev, "{area}"))'),
            new_markdown_cell("## Data som saknas", metadata=REMOVE),
            new_code_cell(
                f'presentation.show(presentation.gaps_table(ev, "{area}"))', metadata=REMOVE
            ),
        ]
    )


def summary_notebook() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell(
                "# Sammanfattning\n\n**Fråga:** Visar medborgarlöftets fokusområden effekt när "
                "uppföljningsåren jämförs med basåret, och hur säkert kan vi säga det?",
                metadata=LEAD,
            ),
            _params(),
            new_code_cell(
                "from IPython.display import Markdown\n\n"
                "from medlofte_analysis import presentation\n"
                "from medlofte_analysis.evaluate import run_evaluation\n\n"
                "ev = run_evaluation(config, municipality)"
            ),
            new_code_cell("Markdown(presentation.answer_markdown(ev))", metadata=LEAD),
            new_code_cell("presentation.scorecard_html(ev)", metadata=LEAD),
            new_markdown_cell("## Vad som jämförs"),
            new_code_cell("Markdown(presentation.intro_markdown(ev))"),
            new_markdown_cell("## De primära utfallen i detalj"),
            new_code_cell("Markdown(presentation.summary_markdown(ev))"),
            new_code_cell("presentation.show_estimates(ev)"),
            new_markdown_cell(
                "## Så ska resultatet läsas\n\n"
                "- *Ingen påvisbar förändring* betyder inte att inget hänt: se den minsta "
                "förändring som hade kunnat upptäckas. För en kommun med omkring 20 000 invånare "
                "är den ofta en fördubbling.\n"
                "- Narkotika- och trafikbrott mäter polisens aktivitet. En ökning tyder på att "
                "löftet genomförts.\n"
                "- Våld i nära relation har stort mörkertal. Fler anmälningar kan betyda ökad "
                "medvetenhet.\n"
                "- Maryland-skalan: nivå 2 är före–efter i kommunen, nivå 3 med jämförelsegrupp. "
                "Ingen nivå bevisar orsakssamband.\n"
                "- Utan uppgifter om vad som faktiskt gjordes (årshjulet) kan vi inte skilja "
                "*fungerade inte* från *genomfördes inte*: se avsnittet om genomförande.\n"
                "- Symbolerna i resultattavlan: ▼ förbättring, ▲ försämring (eller mer polisiär "
                "aktivitet), ◆ tvetydig förändring, ○ ingen påvisbar förändring, ? kan inte "
                "bedömas."
            ),
            new_markdown_cell("## Alla mått"),
            new_code_cell('presentation.show(presentation.scorecard_table(ev), "alla-matt")'),
        ]
    )


def overview_notebook() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell(
                "# Dataöversikt\n\n**Fråga:** Vilka data bygger utvärderingen på, vilka år och "
                "kommuner täcker de, var kommer de ifrån, och vad saknas?"
            ),
            _params(),
            new_code_cell(SETUP, metadata=REMOVE),
            new_markdown_cell(
                "## Källor\n\nVarje siffra i rapporten går att spåra till en rå fil i "
                "`data/raw/`, med kontrollsumma (sha256), ursprungsadress och hämtdatum. Filerna "
                "ändras aldrig av koden. (I rapporten står källorna sist.)",
                metadata=REMOVE,
            ),
            new_code_cell("presentation.show(presentation.sources_table())", metadata=REMOVE),
            new_markdown_cell("## Täckning: år med värden per indikator"),
            new_code_cell("presentation.show(presentation.coverage_table(ev))"),
            new_markdown_cell(
                "## Data som saknas\n\nDet som saknas för utvärderingens mått, samlat här. "
                "Inget värde har fyllts i, uppskattats eller interpolerats."
            ),
            new_code_cell("presentation.show(presentation.gaps_table(ev))"),
            new_markdown_cell(
                "## Sekundära uppgifter (citat på webbsidor)\n\nSiffror som citerats i "
                "tidningar och på webbsidor. De används bara som bakgrund och kontroll, aldrig i "
                "beräkningarna."
            ),
            new_code_cell("presentation.show(presentation.context_figures_table(ev))"),
            new_markdown_cell(
                "## Kvalitet\n\n"
                "- Anmälda brott räknas där brottet begicks och revideras året efter. "
                "Brottskategorier kan ändras mellan år (seriebrott); kända brott står i "
                "katalogen.\n"
                "- Folkmängden för Brå:s lägesbild är härledd ur Brå:s egna tal (antal / antal per "
                "100 000 inv) och är märkt som härledd.\n"
                "- NTU:s kommunvärden bygger på få svarande; intervallen är breda.\n"
                "- Kolada publicerar antal per invånare, inte antal: där antal behövs räknas de "
                "fram ur antal per invånare × folkmängd och märks så."
            ),
        ]
    )


def implementation_notebook() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell(
                "# Genomförande\n\n**Fråga:** Genomfördes det som löftet utlovade (årshjulets "
                "aktiviteter, kontroller, skolbesök)? Utan svar på den frågan går det inte att "
                "skilja *fungerade inte* från *genomfördes inte* (Brå 2018:14; EMMIE)."
            ),
            _params(),
            new_code_cell(SETUP),
            new_markdown_cell(
                "## Aktivitetslogg\n\nKommunen och polisen fyller i Excelmallen "
                "`templates/aktivitetslogg_mall.xlsx` och sparar den som "
                "`data/manual/aktivitetslogg.xlsx`. Loggen får inte innehålla personuppgifter: "
                "filer med personnummer eller namnkolumner vägras."
            ),
            new_code_cell("presentation.show(presentation.implementation_table(ev))"),
            new_code_cell("Markdown(presentation.implementation_markdown(ev))"),
            new_markdown_cell(
                "## Polisens aktivitet i statistiken\n\nTrafik- och narkotikabrott upptäcks "
                "främst genom polisens egna kontroller. De är därför indirekta mått på att "
                "närvaron och insatserna genomförts."
            ),
            new_code_cell("presentation.show(presentation.activity_indicators_table(ev))"),
        ]
    )


def methods_notebook() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell(
                "# Metod och begränsningar\n\n**Fråga:** Hur har bedömningarna gjorts, och vad "
                "kan de inte säga?"
            ),
            _params(),
            new_code_cell(SETUP, metadata=REMOVE),
            new_markdown_cell(
                "## Metoder\n\n"
                "- **Före–efter i kommunen** (Maryland-skalan nivå 2): kvoten mellan antalet "
                "per invånare under uppföljningen och under basåret, med exakt villkorat test "
                "och intervall (binomialfördelningen givet summan; Breslow & Day 1987) och en "
                "mid-p-variant.\n"
                "- **Jämfört med trenden före** (nivå 2): en log-linjär trend med överspridning "
                "(kvasi-Poisson) anpassad på förperioden och framskriven till uppföljningen, med "
                "prediktionsintervall (avbruten tidsserie; Wagner m.fl. 2002).\n"
                "- **Skillnad i skillnader** (nivå 3): kvoten av kommunens och jämförelsegruppens "
                "kvoter mellan hela förperioden och uppföljningen. Osäkerheten skattas ur "
                "jämförelsekommunerna själva: var och en behandlas i tur och ordning som om den "
                "haft löftet (placebo), och spridningen i deras avvikelser, med hänsyn till att "
                "små kommuner varierar mer, ger intervall, p-värde och minsta upptäckbara "
                "förändring (Conley & Taber 2011; Ferman & Pinto 2019). Så håller testet sin nivå "
                "även med en enda kommun med löfte och med år som hänger ihop. För enkäter: "
                "skillnaden i procentenheter mot länets skillnad, med standardfel härledda ur de "
                "publicerade intervallen.\n"
                "- **Syntetisk kontroll** (nivå 3): en viktad kombination av jämförelsekommunerna "
                "som följer kommunen under förperioden (Abadie m.fl. 2010). Uppföljningens antal "
                "jämförs med den syntetiska kontrollens, och avvikelsen prövas mot "
                "jämförelsekommunernas egna placeboavvikelser på samma sätt som skillnad i "
                "skillnader: en nära anpassning före kan inte ensam ge ett säkert resultat. "
                "Bedöms inte när anpassningen före är dålig.\n"
                "- **Styrka**: den minsta förändring som hade upptäckts med 80 % sannolikhet vid "
                "5 % signifikansnivå, givet basårets antal och överspridningen.\n"
                "- **Många test**: q-värden enligt Benjamini–Hochberg inom varje metod, primära "
                "utfall (valda i förväg) för sig."
            ),
            new_markdown_cell("## Den här utvärderingens inställningar"),
            new_code_cell("presentation.show(presentation.settings_table(ev))"),
            new_markdown_cell(
                "## Begränsningar\n\n"
                "- **Små tal.** Enstaka händelser flyttar kvoterna mycket; läs alltid intervallet "
                "och den minsta upptäckbara förändringen.\n"
                "- **Anmälda brott är inte begångna brott.** Anmälningsbenägenhet och polisens "
                "egen aktivitet påverkar.\n"
                "- **Regression mot medelvärdet.** Områden som valts för att läget var dåligt "
                "förbättras ofta ändå.\n"
                "- **Förskjutning och spridning.** Brott kan flytta till grannkommuner, eller "
                "nyttan sprida sig dit. Grannkommuner är därför sammanhang, inte rena kontroller.\n"
                "- **Pandemiåren 2020–2021** ingår i förperioden och kan störa trenden.\n"
                "- **NTU på kommunnivå** bygger på få svarande och kan vara flerårsmedel; "
                "intervallen är breda.\n"
                "- **Genomförande.** Utan aktivitetslogg går det inte att skilja *fungerade inte* "
                "från *genomfördes inte*."
            ),
            new_markdown_cell(
                "## Ordlista\n\nDe tekniska ord som rapporten använder, med vanliga ord."
            ),
            new_code_cell("presentation.show(presentation.glossary_table())"),
        ]
    )


def main(only: list[str]) -> None:
    """Write the notebooks; `only`: name prefixes to write (e.g. "01 02"), default all."""
    NOTEBOOKS.mkdir(exist_ok=True)
    books = {
        "00-dataoversikt.ipynb": overview_notebook(),
        "01-sammanfattning.ipynb": summary_notebook(),
        "06-genomforande.ipynb": implementation_notebook(),
        "07-metod-och-begransningar.ipynb": methods_notebook(),
    }
    for area, (name, title, pledge, reading) in AREAS.items():
        books[name] = focus_notebook(area, title, pledge, reading)
    for name, book in books.items():
        if only and name[:2] not in only:
            continue
        book.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        book.metadata["language_info"] = {"name": "python"}
        for index, cell in enumerate(book.cells):
            cell["id"] = f"{name[:2]}-{index:02d}"
        nbformat.write(book, NOTEBOOKS / name)


if __name__ == "__main__":
    main(sys.argv[1:])
