"""Example phrasings of what one clause of a customer message does, for the intent classifier.

A clause is scored by embedding similarity to these (the model the agent already loads), so
they should read like customers write. The test set in tests/data/followups.jsonl is written
separately and never copied here: it measures how well these generalise.
"""

from __future__ import annotations

EXAMPLES: dict[str, list[str]] = {
    # The fix worked, the customer is satisfied.
    "affirm": [
        "yes that worked", "it works now", "that fixed it", "all sorted now", "problem solved",
        "perfect, that did the trick", "yep all good", "it's working again", "great, it's fine now",
        "that helped, thank you", "I can log in again", "the charge is gone now", "brilliant, it's back",
        "managed to do it, thanks", "followed the steps and it's working", "yes, resolved",
        "no more errors", "no issues since then", "everything is fine now", "that was it",
    ],
    # The fix did not work or the problem is back.
    "deny": [
        "no it didn't work", "still not working", "same error as before", "nope, nothing changed",
        "that didn't help", "I tried that already", "it still fails", "no luck", "doesn't work",
        "still getting the same message", "what else can I try?", "any other ideas?",
        "I did all the steps and it is still broken", "it's even worse now", "still the same problem",
        "not fixed", "is there anything else I can do?", "it keeps happening", "it came back",
        "I followed it but nothing happened",
    ],
    # A question about the product or the customer's account.
    "question": [
        "how do I export my data?", "can I change my billing date?", "where do I find my invoices?",
        "what payment methods do you accept?", "is there a limit on file uploads?", "how do I add a team member?",
        "do you have an android app?", "can I get a refund?", "how much does the pro plan cost?",
        "how do I turn on two-factor authentication?", "is my data stored in the EU?",
        "can I connect slack?", "how do I delete my account?", "what happens when my trial ends?",
        "how do I change my email address?", "can guests see my files?", "how do I cancel my plan?",
        "what are your opening hours?",
    ],
    # A problem the customer has.
    "problem": [
        "I was charged twice", "I can't log in", "the app crashes when I open it", "I get error 500",
        "my files are not syncing", "I never got the reset email", "my card was declined",
        "the page is loading very slowly", "my zap keeps failing", "notifications are not arriving",
        "I lost my phone with the authenticator", "my workspace is read only", "the upload fails",
        "the desktop app won't install", "my invoice shows the wrong amount", "the integration stopped posting",
    ],
    # Asks for a person.
    "human": [
        "let me speak to one of your agents", "can I talk to a human", "I need a real person", "get me a human please",
        "connect me with support staff", "let me talk to someone", "transfer me to a representative",
        "I'd like a person to call me", "is there a human I can chat with", "escalate this to a manager",
        "put me through to customer service", "a live agent please",
    ],
    # Greetings and checking someone is there.
    "greeting": [
        "hi", "hello", "hey there", "good morning", "hello, anybody around?", "you still with me?", "hiya",
        "anybody here?", "how's your week going?", "hi, hope you're well", "yo", "good evening",
    ],
    # Thanks and goodbyes.
    "thanks": [
        "thanks", "thank you so much", "cheers", "thanks, bye", "appreciate it", "have a good one",
        "that's all, thanks", "great, thanks a lot", "ty", "thanks for your help", "bye",
    ],
    # Acknowledgements that ask for nothing.
    "ack": [
        "ok", "okay I'll try that", "let me try", "one moment", "hmm", "I see", "ok give me a minute",
        "will do", "alright", "got it", "i'll check and come back", "sure",
    ],
    # Nothing to do with the product or support.
    "off_topic": [
        "where can I get good sushi around here", "tell me something funny", "what's the weather tomorrow",
        "who won the football match last night", "write me a poem", "what is the capital of france",
        "can you recommend a good movie", "which savings account has the best interest rate",
        "how do I cook pasta", "what time is it in tokyo", "do you like music", "solve this math homework",
        "which phone should I buy", "book me a flight to paris", "translate this sentence into spanish",
        # other companies' products and the customer's own devices: not ours to support
        "how do I cancel my spotify premium", "I forgot my instagram password", "my amazon order never arrived",
        "my gmail inbox is full", "my iphone won't charge", "my internet connection keeps dropping",
        "how do I change my bank card PIN", "my tv remote stopped working", "how do I update windows",
        "my printer is offline", "how do I delete my facebook account", "my car won't start",
    ],
}

# Well-known consumer products and services. A question about one of these that the help centre
# never mentions ("how do I cancel my netflix subscription") is about someone else's product,
# unless it asks about ours ("do you integrate with salesforce?"). The knowledge base decides:
# a brand its articles mention (an integration, an import source) is on topic.
OTHER_PRODUCTS = frozenset("""
netflix spotify hulu disney youtube tiktok instagram facebook messenger whatsapp snapchat twitter reddit
pinterest linkedin tinder bumble telegram signal discord twitch uber lyft airbnb doordash deliveroo grubhub
ubereats amazon ebay etsy walmart target costco ikea alibaba aliexpress shein temu paypal venmo cashapp zelle
revolut monzo wise klarna coinbase binance bitcoin ethereum crypto gmail yahoo hotmail outlook icloud itunes
xbox playstation nintendo steam fortnite minecraft roblox tesla toyota ford bmw honda samsung huawei xiaomi
pixel airpods alexa siri cortana fitbit garmin peloton duolingo canva photoshop lightroom premiere tinder
zoom skype webex teams chatgpt openai gemini claude copilot netgear linksys roku chromecast firestick kindle
audible starbucks mcdonalds dominos kfc subway visa mastercard amex chase barclays hsbc santander lloyds
verizon comcast xfinity vodafone tmobile att sprint spectrum
""".split())
