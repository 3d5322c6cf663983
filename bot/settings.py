"""Configuration: environment variables with the INVESTBOT_ prefix, or an optional investbot.toml."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INVESTBOT_", toml_file="investbot.toml", extra="ignore")

    data_dir: Path = Field(Path(".investbot"), description="index, embedding cache and logs")
    corpus_dir: Path = Field(REPO_ROOT / "corpus", description="the knowledge files to index")
    chroma_host: str | None = Field(None, description="a `chroma run` server; embedded Chroma when unset")
    chroma_port: int = 8000
    llm: Literal["none", "ollama", "openai", "llamacpp"] = "none"
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(30.0, description="seconds a model answer may take before the grounded one is shown")
    allowed_origins: list[str] = Field(default_factory=list, description="sites allowed to embed the widget")
    admin_token: SecretStr | None = None
    rate_limit: int = Field(20, description="questions per minute per client")
    request_timeout: float = Field(10.0, gt=0, description="seconds a client has to send a whole request")
    relevance_floor: float = Field(0.80, description="minimum cosine similarity of the best passage to answer")

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)
