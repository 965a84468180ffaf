"""Convert deepset's COVID-19 FAQ data into the benchmark layout ("covid-faq").

Source: github.com/deepset-ai/COVID-QA, commit fb2eb5e249618457e5359806601086c635c8eb8f:
data/faqs/faq_200327.tsv (FAQ pages of CDC, WHO, ECDC, UNICEF and others, scraped 2020-03-27) and
data/eval_question_similarity_en.csv (people's rewordings of FAQ questions, labelled similar or not).
Licence: Apache-2.0 (the repository's LICENSE). The FAQ texts belong to the agencies that publish
them (CDC content is US-government work; WHO/ECDC/UNICEF texts are theirs).

Articles: the English FAQ entries, one article each (title = the FAQ question, body = its answer);
entries repeated word for word on two pages are kept once. Questions: every rewording labelled
similar (1) whose original FAQ question is in the corpus, with that entry as source (every entry with
the same question text, when a question appears on several pages with different answers). Rewordings
of FAQ questions the corpus does not hold become unanswerable only where a reading of the corpus's
nearest entries found no answer (UNANSWERED below, decided by hand); the rest are dropped.

    python bench/datasets/convert_covid_faq.py /path/to/COVID-QA/data --out ../shared/datasets/covid-faq
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from pathlib import Path

from layout import Article, Question, counts, slug, write_set

AGENCY = {"Center for Disease Control and Prevention (CDC)": "cdc", "World Health Organization (WHO)": "who",
          "European Centre for Disease Prevention and Control": "ecdc", "UNICEF": "unicef",
          "FHM, Folkhälsomyndigheten": "fhm"}
# Original questions reworded in the 2020-03-27 scrape: the same entry, so the rewordings keep their source.
RENAMED = {"what precautions should be taken for animals that have recently been imported (for example, by "
           "shelters, rescue groups, or as personal pets) from china?":
           "what precautions should be taken for animals that have recently been imported from outside the "
           "united states (for example, by shelters, rescue groups, or as personal pets)?"}
# CDC questions for healthcare professionals absent from the scrape; read against the corpus's three best
# BM25 entries, none answers them (what the corpus says on nearby topics is for the public, not clinicians).
UNANSWERED = {
    "are pregnant healthcare personnel at increased risk for adverse outcomes if they care for patients with covid-19?",
    "how do you test a patient for sars-cov-2, the virus that causes covid-19?",
    "will existing respiratory virus panels, such as those manufactured by biofire or genmark, detect sars-cov-2, "
    "the virus that causes covid-19?",
    "should post-exposure prophylaxis be used for people who may have been exposed to covid-19?",
    "whom should healthcare providers notify if they suspect a patient has covid-19?",
    "do patients with confirmed or suspected covid-19 need to be admitted to the hospital?",
    "when can patients with confirmed covid-19 be discharged from the hospital?",
    "should medical waste or general waste from healthcare facilities treating puis and patients with confirmed "
    "covid-19 be handled any differently or need any additional disinfection?",
    "what personal protective equipment (ppe) should be worn by individuals transporting patients who are "
    "confirmed with or under investigation for covid-19 within a healthcare facility? for example, what ppe "
    "should be worn when transporting a patient to radiology for imaging that cannot be performed in the "
    "patient room?",
    "what personal protective equipment (ppe) should be worn by environmental services (evs) personnel who clean "
    "and disinfect rooms of hospitalized patients with covid-19?",
}


def normalise(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split()).lower()


def load_articles(raw: Path) -> tuple[list[Article], dict[str, list[str]]]:
    """English FAQ entries as articles, and the article ids per normalised FAQ question."""
    articles, seen, by_question = [], set(), {}
    with (raw / "faqs" / "faq_200327.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["lang"] != "en" or not row["answer"].strip():
                continue
            key = (normalise(row["question"]), normalise(row["answer"]))
            if key in seen:
                continue
            seen.add(key)
            digest = hashlib.sha1("\n".join(key).encode()).hexdigest()[:6]
            article_id = f"{AGENCY.get(row['source'], slug(row['source'], 12))}-{slug(row['question'], 60)}-{digest}"
            articles.append(Article(article_id, " ".join(row["question"].split()), row["answer"].strip()))
            by_question.setdefault(key[0], []).append(article_id)
    return articles, by_question


def convert(raw: Path) -> tuple[list[Article], list[Question]]:
    articles, by_question = load_articles(raw)
    answers = {a.id: a.body for a in articles}
    questions, seen = [], set()
    with (raw / "eval_question_similarity_en.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            original, asked = normalise(row["question_1"]), " ".join(row["question_2"].split())
            if row["similar"] != "1" or normalise(asked) in seen:
                continue
            sources = by_question.get(RENAMED.get(original, original), [])
            if not sources and original not in UNANSWERED:
                continue
            seen.add(normalise(asked))
            number = f"covid-{len(questions) + 1:03d}"
            extra = {"faq_question": " ".join(row["question_1"].split())}
            questions.append(Question(number, asked, answers[sources[0]] if sources else "", sources,
                                      bool(sources), extra))
    return articles, questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="the repository's data/ folder (faqs/faq_200327.tsv, "
                                               "eval_question_similarity_en.csv)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--license", type=Path, help="the repository's LICENSE, copied beside the set")
    args = parser.parse_args()
    articles, questions = convert(args.raw)
    write_set(args.out, articles, questions, args.license)
    print(counts(articles, questions))


if __name__ == "__main__":
    main()
