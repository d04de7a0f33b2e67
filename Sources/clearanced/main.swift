print("clearanced")
