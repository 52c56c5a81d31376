"""The questions' declarations (benchmarks/common/study.py): their results files and sections."""

from benchmarks.common.study import Section, Study, pm, source

BERT_COLUMNS = ("probe_at_init", "probe_after_timemae", "finetune_100", "finetune_1")


def bert_question(record: dict) -> str:
    budget = record["budget"]
    lines = [
        f"| {record['bert_model']} architecture | probe at init | probe after TimeMAE | fine-tune 100 % "
        f"| fine-tune {100 * budget['small_label_fraction']:g} % |",
        "|---|---|---|---|---|",
    ]
    for variant, columns in record["table_test_accuracy_percent"].items():
        lines.append(f"| {variant} | " + " | ".join(pm(columns[c]) for c in BERT_COLUMNS) + " |")
    return (
        "\n".join(lines) + f"\n\nBudget: {budget['pretrain_epochs']} TimeMAE epochs, {budget['finetune_epochs_100']} "
        f"fine-tuning epochs with all labels, {budget['finetune_epochs_1_percent']} with "
        f"{100 * budget['small_label_fraction']:g} %, fine-tuning lr {budget['finetune_learning_rate']:g}, seeds "
        f"{budget['seeds']}; test accuracy (%).\n\n" + source(record)
    )


STUDIES = (
    Study(
        "bert_question",
        "benchmarks.questions.bert_question",
        "Does BERT's language pre-training help TimeMAE?",
        sections=(Section.of_run("### Does BERT's language pre-training help?", "bert_question", bert_question, 120),),
        rows=True,
    ),
    Study(
        "representation_collapse",
        "benchmarks.questions.representation_collapse",
        "Has a pre-training run's representation collapsed? (feature spread and effective rank)",
    ),
)
