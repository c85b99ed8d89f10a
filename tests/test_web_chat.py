"""The web chat in headless Chromium: a person opens it, talks to the bot and presses a button."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.live import running_live

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def start_browser(profile: Path) -> WebDriver:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=420,860",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)


def chat_flow(driver: WebDriver, url: str) -> str:
    wait = WebDriverWait(driver, 20)
    driver.get(url)
    box = wait.until(ec.element_to_be_clickable((By.ID, "text")))
    box.send_keys("/start", Keys.ENTER)
    about = wait.until(
        ec.element_to_be_clickable(
            (By.XPATH, "//div[contains(@class,'inline-keyboard')]//button[.='ℹ️ О Робокассе']")
        )
    )
    assert "Здравствуйте" in driver.find_element(By.ID, "messages").text
    about.click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "messages"), "с 2003 года"))
    # Formatting survives: the heading is bold, as Telegram would show it. Found and measured in
    # one script: the chat re-renders its messages whenever a new version arrives.
    weight = wait.until(
        lambda d: d.execute_script(
            "const b = [...document.querySelectorAll('#messages .msg b')]"
            ".find((e) => e.textContent === 'О Робокассе');"
            "return b ? getComputedStyle(b).fontWeight : null;"
        )
    )
    assert int(weight) >= 600
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "web-chat.png"))
    return str(driver.find_element(By.ID, "messages").text)


async def test_web_chat_shows_the_menu_and_the_answer_to_a_press(tmp_path: Path) -> None:
    async with running_live(tmp_path) as live:
        created = await live.client.post("/api/users", json={"id": 77, "first_name": "Анна"})
        assert created.status_code == 200
        driver = await asyncio.to_thread(start_browser, tmp_path / "chromium-profile")
        try:
            text = await asyncio.to_thread(
                chat_flow, driver, f"{live.runtime.emulator_url}/?user=77"
            )
        finally:
            await asyncio.to_thread(driver.quit)
        assert "О Робокассе" in text
        assert "30 000" in text
        assert (ARTIFACTS / "web-chat.png").stat().st_size > 1000


def answers_seen_on_opening(driver: WebDriver, url: str) -> tuple[bool, str]:
    """Opens the chat and reports whether a toast popped up once the messages were shown."""
    wait = WebDriverWait(driver, 20)
    driver.get(url)
    wait.until(ec.text_to_be_present_in_element((By.ID, "messages"), "Здравствуйте"))
    toast = driver.find_element(By.ID, "toast")
    return toast.is_displayed(), toast.text


def toast_text(driver: WebDriver) -> str:
    toast = WebDriverWait(driver, 20).until(ec.visibility_of_element_located((By.ID, "toast")))
    return str(toast.text)


async def test_opening_a_chat_does_not_replay_an_old_button_answer(tmp_path: Path) -> None:
    async with running_live(tmp_path) as live:
        oleg = live.person("Олег", user_id=78)
        menu = await oleg.send("/start")
        # Earlier, before the chat was opened, Олег pressed a button the bot no longer knows.
        await oleg.press_data(menu.message_id, "gone:1")
        assert oleg.chat["callback_answers"], "the bot answered the old button"
        driver = await asyncio.to_thread(start_browser, tmp_path / "chromium-profile")
        try:
            shown, text = await asyncio.to_thread(
                answers_seen_on_opening, driver, f"{live.runtime.emulator_url}/?user=78"
            )
            assert not shown, f"an old answer popped up on opening the chat: {text!r}"
            # A press while the chat is open still shows its answer.
            await oleg.press_data(menu.message_id, "gone:2")
            fresh = await asyncio.to_thread(toast_text, driver)
        finally:
            await asyncio.to_thread(driver.quit)
        assert "/start" in fresh
