"""The recipe page's cluster exports and the rft-lora page: grouped, downloadable, sourced."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.recipes import get_recipe
from app.web.presenters import urls
from tests.web.conftest import hrefs, one, parse


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Recipe pages store nothing: SQLite will do."""
    return sqlite_url


def test_cluster_exports_are_grouped_with_what_to_fill_in(client: TestClient) -> None:
    page = parse(client.get(urls.recipe("sft-lora", "gpu=H100")).text)
    section = one(page, "#clusters")
    assert section.get_text() == "Run it on a cluster"
    exports = page.select("#exports ~ details.export")
    ids = [d["id"] for d in exports]
    # Trainer and hosted formats first, then the cluster group after its heading.
    assert ids.index("format-trl") < ids.index("format-skypilot") < ids.index("format-slurm")
    kubernetes = one(page, "#format-kubernetes")
    text = kubernetes.get_text()
    assert "Replace the image" in text and "namespace" in text and "PersistentVolumeClaim" in text
    assert "kind: Job" in one(page, "#export-kubernetes").get_text()
    assert "Set the partition" in one(page, "#format-slurm").get_text()
    assert "--gres=gpu:h100:1" in one(page, "#export-slurm").get_text()
    link = urls.recipe_export("sft-lora", "slurm", "gpu=H100")
    assert link in hrefs(page)
    download = client.get(link)
    assert download.status_code == 200 and download.text.startswith("#!/bin/bash")
    assert download.headers["content-disposition"] == 'attachment; filename="sft-lora.slurm.sh"'


def test_rft_page_shows_grader_sources_and_its_dataset_check(client: TestClient) -> None:
    response = client.get(urls.recipe("rft-lora"))
    assert response.status_code == 200
    page = parse(response.text)
    assert "def exact_match_reward" in one(page, "#export-grader").get_text()
    assert "trl grpo --config rft-lora.trl.yaml" in one(page, "#command-trl").get_text()
    links = [a["href"] for a in page.select("ul.sources a")]
    assert len(links) == len(get_recipe("rft-lora").sources)
    assert "https://arxiv.org/abs/2402.03300" in links
    help_text = " ".join(one(page, "#dataset-file-help").get_text().split())
    assert "prompt and the reference solution the grader checks" in help_text
    assert page.select_one("#format-axolotl") is None  # refused formats are not offered
